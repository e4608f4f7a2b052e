import Foundation
import MiniupdateCore
import MiniupdateRepository
import MiniupdateTestSupport
import Testing

@Suite struct PublisherTests {
    @Test func publishesWithIncreasingSerialsAndRefusesOlderVersions() throws {
        let repo = try RepositoryFixture()
        defer { repo.remove() }
        try repo.publish("com.example.weather", "1.0.0")
        try repo.publish("com.example.news", "0.1.0")
        try repo.publish("com.example.weather", "1.1.0")
        let index = try #require(try repo.publisher.currentIndex())
        #expect(index.serial == 3)
        #expect(index.apps[try AppID("com.example.weather")]?.version == (try Version("1.1.0")))
        #expect(index.apps.count == 2)

        for lower in ["1.1.0", "1.0.9", "1.1.0+rebuild"] {
            let error = #expect(throws: UpdateError.self) { try repo.publish("com.example.weather", lower) }
            #expect(error?.code == .versionNotNewer)
        }
        #expect(try repo.publisher.currentIndex()?.serial == 3)
    }

    @Test func verifiesLikeAClient() throws {
        let repo = try RepositoryFixture()
        defer { repo.remove() }
        let release = try repo.publish("com.example.weather", "1.0.0")
        let now = RepositoryFixture.now
        #expect(try repo.publisher.verify(trustedKeys: [repo.publicKey], now: now).apps.count == 1)

        let untrusted = #expect(throws: UpdateError.self) { try repo.publisher.verify(trustedKeys: [RepositorySigningKey().publicKey], now: now) }
        #expect(untrusted?.code == .untrustedKey)
        let expired = #expect(throws: UpdateError.self) { try repo.publisher.verify(trustedKeys: [repo.publicKey], now: now + 86_401) }
        #expect(expired?.code == .indexExpired)

        let packagePath = "\(repo.repositoryPath)/\(release.package)"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: packagePath))
        bytes[bytes.count / 2] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: packagePath))
        let tampered = #expect(throws: UpdateError.self) { try repo.publisher.verify(trustedKeys: [repo.publicKey], now: now) }
        #expect(tampered?.code == .digestMismatch)

        try FileManager.default.removeItem(atPath: packagePath)
        let missing = #expect(throws: UpdateError.self) { try repo.publisher.verify(trustedKeys: [repo.publicKey], now: now) }
        #expect(missing?.code == .notFound)
    }

    @Test func resignsAndRemoves() throws {
        let repo = try RepositoryFixture()
        defer { repo.remove() }
        try repo.publish("com.example.weather", "1.0.0")
        try repo.publish("com.example.news", "1.0.0")
        let resigned = try repo.publisher.resign(key: repo.key, expiresIn: .seconds(60), now: RepositoryFixture.now)
        #expect(resigned.serial == 3)
        try repo.publisher.remove(app: AppID("com.example.news"), deletePackages: true, key: repo.key, expiresIn: .seconds(60), now: RepositoryFixture.now)
        let index = try #require(try repo.publisher.currentIndex())
        #expect(index.serial == 4)
        #expect(index.apps.keys.map(\.rawValue) == ["com.example.weather"])
        #expect(!FileManager.default.fileExists(atPath: "\(repo.repositoryPath)/packages/com.example.news"))
    }
}
