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

    /// Every client trusts the key that signed the current index: another key's signature
    /// would make them all refuse the repository (it exited 0 and did that, before).
    @Test func onlyTheCurrentKeySignsUnlessRotating() throws {
        let repo = try RepositoryFixture()
        defer { repo.remove() }
        try repo.publish("com.example.weather", "1.0.0")
        let before = repo.indexBytes
        let other = RepositorySigningKey()
        let now = RepositoryFixture.now
        let source = repo.directory.sub("src-1.1.0")
        try writeTree(["index.html": "1.1.0\n"], at: source)
        let refusals: [() throws -> Void] = [
            { _ = try repo.publisher.resign(key: other, expiresIn: .seconds(60), now: now) },
            { _ = try repo.publisher.publish(app: AppID("com.example.weather"), version: Version("1.1.0"), from: source, key: other, expiresIn: .seconds(60), now: now) },
            { try repo.publisher.remove(app: AppID("com.example.weather"), deletePackages: true, key: other, expiresIn: .seconds(60), now: now) },
        ]
        for refusal in refusals {
            let error = #expect(throws: UpdateError.self) { try refusal() }
            #expect(error?.code == .keyMismatch)
            #expect(error?.message.contains(repo.publicKey.keyID) == true, "names the key that signs today")
            #expect(error?.message.contains("--rotate-key") == true)
        }
        #expect(repo.indexBytes == before)
        #expect(!FileManager.default.fileExists(atPath: "\(repo.repositoryPath)/packages/com.example.weather/com.example.weather-1.1.0.tar.zst"))
        #expect(FileManager.default.fileExists(atPath: "\(repo.repositoryPath)/packages/com.example.weather/com.example.weather-1.0.0.tar.zst"))

        let rotated = try repo.publisher.resign(key: other, rotatingKey: true, expiresIn: .seconds(60), now: now)
        #expect(rotated.serial == 2)
        #expect(try repo.publisher.currentSigners() == [other.publicKey.keyID])
        #expect(try repo.publisher.verify(trustedKeys: [other.publicKey], now: now).serial == 2)
        // Now the old key is the other one.
        #expect(throws: UpdateError.self) { try repo.publisher.resign(key: repo.key, expiresIn: .seconds(60), now: now) }
    }

    /// A refused publish leaves the directory as it was: no `packages/<app>/` stub, no new
    /// repository, and no lock file among the served files.
    @Test func aRefusedPublishLeavesNothingBehind() throws {
        let repo = try RepositoryFixture()
        defer { repo.remove() }
        let missing = repo.directory.sub("absent")
        let fresh = #expect(throws: UpdateError.self) {
            try repo.publisher.publish(app: AppID("com.example.weather"), version: Version("1.0.0"), from: missing, key: repo.key, expiresIn: .seconds(60), now: RepositoryFixture.now)
        }
        #expect(fresh?.code == .invalidArgument)
        #expect(fresh?.message.contains(missing) == true)
        #expect(!FileManager.default.fileExists(atPath: repo.repositoryPath), "a repository was created")

        try repo.publish("com.example.weather", "1.0.0")
        let listing = try FileManager.default.subpathsOfDirectory(atPath: repo.repositoryPath).sorted()
        #expect(listing == ["index.signed", "packages", "packages/com.example.weather", "packages/com.example.weather/com.example.weather-1.0.0.tar.zst"])
        #expect(throws: UpdateError.self) {
            try repo.publisher.publish(app: AppID("com.example.news"), version: Version("1.0.0"), from: missing, key: repo.key, expiresIn: .seconds(60), now: RepositoryFixture.now)
        }
        // A source that fails half-way (an unreadable symlink escape) leaves no package either.
        let escaping = repo.directory.sub("escaping")
        try writeTree(["index.html": "x"], at: escaping)
        try FileManager.default.createSymbolicLink(atPath: "\(escaping)/out", withDestinationPath: "../../etc")
        #expect(throws: UpdateError.self) {
            try repo.publisher.publish(app: AppID("com.example.news"), version: Version("1.0.0"), from: escaping, key: repo.key, expiresIn: .seconds(60), now: RepositoryFixture.now)
        }
        #expect(throws: UpdateError.self) { try repo.publish("com.example.weather", "0.9.0") }
        // Expiries count whole seconds: half a second would sign an index expired at once.
        let instant = #expect(throws: UpdateError.self) { try repo.publish("com.example.weather", "2.0.0", expiresIn: .milliseconds(500)) }
        #expect(instant?.code == .invalidArgument)
        #expect(try FileManager.default.subpathsOfDirectory(atPath: repo.repositoryPath).sorted() == listing)
    }
}
