import Foundation
import MiniupdateCore
import MiniupdateEngine
import MiniupdateRepository
import MiniupdateTestSupport
import Testing

/// Every refusal of the repository format, through the engine, each by its code; the
/// installed version stays current and intact.
@Suite struct RefusalTests {
    static let app = "com.example.weather"

    static let bystander = "com.example.bystander"

    /// Installs 1.0.0 of the app and of a bystander, publishes 1.1.0 of the bystander, lets
    /// `tamper` break the repository, checks everything, and returns the app's failure.
    /// Unless the tampering is of the whole index (`othersUpdate: false`), the bystander's
    /// update must still become ready: one bad package never blocks the others. With
    /// `fetchesPackage: false` the refusal must come before any byte of the package.
    func failure(http: Bool = true, limits: EngineLimits = EngineLimits(), keys: [RepositoryPublicKey]? = nil, othersUpdate: Bool = true,
                 fetchesPackage: Bool = true, _ tamper: @Sendable (EngineHarness) throws -> Void) async throws -> UpdateError.Code? {
        let harness = try await EngineHarness.make(http: http)
        try harness.repo.publish(Self.app, "1.0.0")
        try harness.repo.publish(Self.bystander, "1.0.0")
        try preinstall([Self.app, Self.bystander], version: "1.0.0", in: harness)
        try harness.repo.publish(Self.bystander, "1.1.0")
        try tamper(harness)
        let code = try await harness.withEngine(limits: limits, keys: keys) { engine, events -> UpdateError.Code? in
            let code: UpdateError.Code?
            do {
                let results = try await engine.checkAll()
                if results[appID(Self.app)]?.hasUpdate == true {
                    code = try await events.wait(for: Self.app) { $0.isFailed || $0.isReady }.failureCode
                } else {
                    code = try await events.wait(for: Self.app) { $0.isFailed }.failureCode
                }
            } catch let error as UpdateError {
                try await events.wait(for: Self.app) { $0.isFailed }
                code = error.code
            }
            if !fetchesPackage {
                let progress = events.of(Self.app).filter(\.isProgress)
                #expect(progress.isEmpty, "the package was fetched: \(progress)")
            }
            if othersUpdate {
                _ = try await events.wait(for: Self.bystander) { $0.isReady }
                #expect(try await engine.applyUpdate(appID(Self.bystander)).version == version("1.1.0"))
            }
            return code
        }
        #expect(harness.current(Self.app) == "versions/1.0.0")
        #expect(harness.installedFile(Self.app) == "\(Self.app) 1.0.0\n")
        #expect(!FileManager.default.fileExists(atPath: harness.state.sub("state/apps/\(Self.app)/versions/1.1.0")))
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: harness.state.sub("state/apps/\(Self.app)/staging"))) ?? []).isEmpty)
        await harness.remove()
        return code
    }

    @Test func untrustedKey() async throws {
        #expect(try await failure(keys: [RepositorySigningKey().publicKey], othersUpdate: false) { _ in } == .untrustedKey)
    }

    @Test func badSignature() async throws {
        let code = try await failure(othersUpdate: false) { harness in
            try harness.repo.publish(Self.app, "1.1.0")
            var bytes = harness.repo.indexBytes
            let position = bytes.lastIndex(of: UInt8(ascii: "1"))!
            bytes[position] = UInt8(ascii: "2")
            try bytes.write(to: URL(fileURLWithPath: "\(harness.repo.repositoryPath)/index.signed"))
        }
        #expect(code == .signatureInvalid)
    }

    @Test func replayedOlderIndex() async throws {
        let harness = try await EngineHarness.make(http: true)
        try harness.repo.publish(Self.app, "1.0.0")
        let old = harness.repo.indexBytes
        try harness.repo.publish(Self.app, "1.1.0")
        try await harness.withEngine { engine, _ in
            try await engine.install(appID(Self.app))
            try old.write(to: URL(fileURLWithPath: "\(harness.repo.repositoryPath)/index.signed"))
            let error = await #expect(throws: UpdateError.self) { try await engine.check(appID(Self.app)) }
            #expect(error?.code == .indexRollback)
            #expect(harness.current(Self.app) == "versions/1.1.0")
        }
        // The accepted serial survives a restart.
        try await harness.withEngine { engine, _ in
            let error = await #expect(throws: UpdateError.self) { try await engine.check(appID(Self.app)) }
            #expect(error?.code == .indexRollback)
        }
        await harness.remove()
    }

    @Test func expiredIndex() async throws {
        let code = try await failure(othersUpdate: false) { harness in
            let index = try #require(try harness.repo.publisher.currentIndex())
            try harness.repo.signAndWrite(index, expiresIn: .seconds(60), now: RepositoryFixture.now - 3600)
        }
        #expect(code == .indexExpired)
    }

    @Test func indexOverTheLimit() async throws {
        #expect(try await failure(limits: EngineLimits(maximumIndexSize: 100), othersUpdate: false) { _ in } == .indexTooLarge)
    }

    @Test func packageLongerThanDeclared() async throws {
        let code = try await failure { harness in
            let release = try harness.repo.publish(Self.app, "1.1.0")
            harness.server!.setFault(.append(Array(repeating: 0x41, count: 4096)), for: "/" + release.package)
        }
        #expect(code == .packageTooLarge)
    }

    @Test func endlessPackageBody() async throws {
        let code = try await failure { harness in
            let release = try harness.repo.publish(Self.app, "1.1.0")
            harness.server!.setFault(.drip(bytes: 64 * 1024, interval: .milliseconds(1)), for: "/" + release.package)
        }
        #expect(code == .packageTooLarge)
    }

    @Test func packageOverTheConfiguredLimit() async throws {
        #expect(try await failure(limits: EngineLimits(maximumPackageSize: 10), othersUpdate: false, fetchesPackage: false) { harness in
            try harness.repo.publish(Self.app, "1.1.0")
        } == .packageTooLarge)
    }

    @Test(arguments: [true, false])
    func packageWithAnotherDigest(http: Bool) async throws {
        let code = try await failure(http: http) { harness in
            let release = try harness.repo.publish(Self.app, "1.1.0")
            let path = "\(harness.repo.repositoryPath)/\(release.package)"
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            bytes[bytes.count - 5] ^= 0x01
            try bytes.write(to: URL(fileURLWithPath: path))
        }
        #expect(code == .digestMismatch)
    }

    @Test func missingPackage() async throws {
        let code = try await failure { harness in
            let release = try harness.repo.publish(Self.app, "1.1.0")
            try FileManager.default.removeItem(atPath: "\(harness.repo.repositoryPath)/\(release.package)")
        }
        #expect(code == .notFound)
    }

    @Test func serverError() async throws {
        let code = try await failure { harness in
            let release = try harness.repo.publish(Self.app, "1.1.0")
            harness.server!.setFault(.status(500), for: "/" + release.package)
        }
        #expect(code == .httpStatus)
    }

    @Test func truncatedBody() async throws {
        let code = try await failure { harness in
            let release = try harness.repo.publish(Self.app, "1.1.0")
            harness.server!.setFault(.truncate(after: 10), for: "/" + release.package)
        }
        #expect(code == .repositoryUnreachable || code == .packageTruncated)
    }

    @Test func slowDripPastTheIdleTimeout() async throws {
        let limits = EngineLimits(transfer: TransferLimits(idleTimeout: .milliseconds(300)))
        let code = try await failure(limits: limits) { harness in
            let release = try harness.repo.publish(Self.app, "1.1.0")
            harness.server!.setFault(.drip(bytes: 1, interval: .seconds(2)), for: "/" + release.package)
        }
        #expect(code == .timeout)
    }

    @Test func slowDripBelowTheLowSpeedLimit() async throws {
        // 10 bytes a second against a limit of 50 over 1 s: the bystander's small package,
        // fetched at full speed, never comes near the limit, even on a loaded machine.
        let limits = EngineLimits(transfer: TransferLimits(lowSpeedLimit: 50, lowSpeedWindow: .seconds(1)))
        let code = try await failure(limits: limits) { harness in
            let release = try harness.repo.publish(Self.app, "1.1.0")
            harness.server!.setFault(.drip(bytes: 1, interval: .milliseconds(100)), for: "/" + release.package)
        }
        #expect(code == .transferTooSlow)
    }

    /// The engine reads the time from its configured clock: an index that expires in a
    /// minute is expired to an engine whose clock says an hour from now, with no waiting.
    @Test func expiryIsJudgedByTheEnginesClock() async throws {
        let harness = try await EngineHarness.make(http: false)
        try harness.repo.publish(Self.app, "1.0.0", expiresIn: .seconds(60))
        try preinstall([Self.app], version: "1.0.0", in: harness)
        let later = try await harness.makeEngine(wallClock: .fixed(at: RepositoryFixture.now + 3600))
        try await EngineHarness.run(later) { engine, _ in
            let error = await #expect(throws: UpdateError.self) { try await engine.check(appID(Self.app)) }
            #expect(error?.code == .indexExpired)
        }
        let now = try await harness.withEngine { engine, _ in try await engine.check(appID(Self.app)) }
        #expect(now.hasUpdate == false)
        await harness.remove()
    }

    /// The low-speed window counts the body's bytes, not the wait for the response head:
    /// a small package whose head comes late is no slow transfer (it was refused before).
    @Test func aLateResponseHeadIsNoSlowTransfer() async throws {
        let harness = try await EngineHarness.make(http: true)
        try harness.repo.publish(Self.app, "1.0.0")
        try preinstall([Self.app], version: "1.0.0", in: harness)
        let release = try harness.repo.publish(Self.app, "1.1.0")
        harness.server!.setFault(.delay(.milliseconds(1500)), for: "/" + release.package)
        // The package (a few hundred bytes) comes in one piece as soon as its head does.
        let limits = EngineLimits(transfer: TransferLimits(lowSpeedLimit: 10_000, lowSpeedWindow: .seconds(1)))
        try await harness.withEngine(limits: limits) { engine, events in
            #expect(try await engine.check(appID(Self.app)).hasUpdate)
            let outcome = try await events.wait(for: Self.app) { $0.isReady || $0.isFailed }
            #expect(outcome == .ready(version: version("1.1.0")), "\(outcome)")
        }
        await harness.remove()
    }

    @Test func redirectLoop() async throws {
        let code = try await failure(othersUpdate: false) { harness in
            harness.server!.setFault(.redirect(to: "/index.signed"), for: "/index.signed")
        }
        #expect(code == .redirectRefused)
    }

    @Test(arguments: ["ftp://127.0.0.1/package.tar.zst", "https://127.0.0.1:1/package.tar.zst", "file:///etc/passwd", "gopher:"])
    func redirectToAnotherScheme(_ location: String) async throws {
        let code = try await failure { harness in
            let release = try harness.repo.publish(Self.app, "1.1.0")
            harness.server!.setFault(.redirect(to: location), for: "/" + release.package)
        }
        #expect(code == .redirectRefused)
    }

    @Test func redirectChainLongerThanTheLimit() async throws {
        let code = try await failure { harness in
            let release = try harness.repo.publish(Self.app, "1.1.0")
            harness.server!.setFault(.redirect(to: "/hop1"), for: "/" + release.package)
            for hop in 1...9 { harness.server!.setFault(.redirect(to: "/hop\(hop + 1)"), for: "/hop\(hop)") }
        }
        #expect(code == .redirectRefused)
    }

    @Test func aRedirectWithinTheSchemeIsFollowed() async throws {
        let harness = try await EngineHarness.make(http: true)
        try harness.repo.publish(Self.app, "1.0.0")
        let release = try harness.repo.publish(Self.app, "1.1.0")
        let mirror = "\(harness.repo.repositoryPath)/mirror/\(release.package)"
        try FileManager.default.createDirectory(atPath: (mirror as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: "\(harness.repo.repositoryPath)/\(release.package)", toPath: mirror)
        harness.server!.setFault(.redirect(to: "/mirror/" + release.package), for: "/" + release.package)
        try await harness.withEngine { engine, _ in
            _ = try await engine.install(appID(Self.app))
        }
        #expect(harness.current(Self.app) == "versions/1.1.0")
        #expect(harness.server!.requests(to: "/mirror/" + release.package).count == 1)
        await harness.remove()
    }

    static let malformedIndexBodies: [(String, String)] = [
        ("truncated", #"{"format":1,"serial":99,"published":0,"expires":4000000000,"apps":{}"#),
        ("duplicate key", #"{"format":1,"serial":99,"serial":100,"published":0,"expires":4000000000,"apps":{}}"#),
        ("huge number", #"{"format":1,"serial":1e999999,"published":0,"expires":4000000000,"apps":{}}"#),
        ("deep nesting", #"{"format":1,"serial":99,"published":0,"expires":4000000000,"apps":{},"x":"# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"),
    ]

    @Test(arguments: malformedIndexBodies.map(\.0))
    func malformedIndexWithAValidSignature(_ name: String) async throws {
        let body = try #require(Self.malformedIndexBodies.first { $0.0 == name }).1
        let code = try await failure(othersUpdate: false) { harness in
            var envelope = try SignedIndex(signing: try #require(try harness.repo.publisher.currentIndex()), with: [harness.repo.key])
            envelope.body = Array(body.utf8)
            let message = Array("\(SignedIndex.magic)\n".utf8) + envelope.body
            envelope.signatures = [.init(keyID: harness.repo.key.publicKey.keyID, bytes: try harness.repo.key.signature(for: message))]
            try Data(envelope.fileContents).write(to: URL(fileURLWithPath: "\(harness.repo.repositoryPath)/\(SignedIndex.fileName)"))
        }
        #expect(code == .indexMalformed)
    }

    @Test func unreachableRepository() async throws {
        let limits = EngineLimits(transfer: TransferLimits(connectTimeout: .seconds(1)))
        let code = try await failure(limits: limits, othersUpdate: false) { harness in try harness.server!.shutdownNow() }
        #expect(code == .repositoryUnreachable)
    }

    static let hostileArchives: [(String, [ArchiveGenerator.Entry], UpdateError.Code)] = [
        ("dot-dot", [.file("../../escape", [1])], .archiveUnsafePath),
        ("absolute", [.file("/tmp/escape", [1])], .archiveUnsafePath),
        ("symlink out", [.symlink("out", target: "../../../../etc")], .archiveLinkEscape),
        ("hard link out", [.hardlink("h", target: "/etc/passwd")], .archiveUnsafePath),
        ("device", [.characterDevice("null")], .archiveUnsupportedEntry),
    ]

    @Test(arguments: hostileArchives.map(\.0))
    func hostileArchive(_ name: String) async throws {
        let (_, entries, expected) = Self.hostileArchives.first { $0.0 == name }!
        let code = try await failure { harness in
            let archive = harness.state.sub("hostile.tar.zst")
            try ArchiveGenerator.write(entries, to: archive)
            try harness.repo.publishRaw(Self.app, "1.1.0", archive: archive)
        }
        #expect(code == expected)
    }

    @Test func archiveLargerThanDeclared() async throws {
        let code = try await failure { harness in
            let archive = harness.state.sub("bomb.tar.zst")
            try ArchiveGenerator.write([.zeros("zeros", size: 8 << 20)], to: archive)
            try harness.repo.publishRaw(Self.app, "1.1.0", archive: archive, installedSize: 1 << 20, files: 1)
        }
        #expect(code == .archiveTooLarge)
    }

    @Test func aHundredThousandTinyFiles() async throws {
        let code = try await failure(fetchesPackage: false) { harness in
            let archive = harness.state.sub("tiny.tar.zst")
            try ArchiveGenerator.write((0..<100_000).map { .file("d\($0 / 1000)/f\($0)", [1]) }, to: archive)
            // Declared honestly: the local limit (20,000 entries by default) refuses it
            // before it is downloaded.
            try harness.repo.publishRaw(Self.app, "1.1.0", archive: archive, installedSize: 100_000, files: 100_000)
        }
        #expect(code == .archiveTooManyFiles)
    }

    @Test func aCompressionBombDeclaredHonestly() async throws {
        let limits = EngineLimits(extraction: ExtractionLimits(maximumBytes: 64 << 20))
        let code = try await failure(limits: limits, fetchesPackage: false) { harness in
            let archive = harness.state.sub("bomb.tar.zst")
            try ArchiveGenerator.write([.zeros("zeros", size: 1 << 30)], to: archive)
            let size = try #require(try FileManager.default.attributesOfItem(atPath: archive)[.size] as? Int)
            #expect(size < 1 << 20, "a bomb: a package of at most 1 MiB that unpacks to 1 GiB")
            try harness.repo.publishRaw(Self.app, "1.1.0", archive: archive, installedSize: 1 << 30, files: 1)
        }
        #expect(code == .archiveTooLarge)
    }

    @Test func moreEntriesThanDeclared() async throws {
        let code = try await failure { harness in
            let archive = harness.state.sub("many.tar.zst")
            try ArchiveGenerator.write((0..<50).map { .file("f\($0)", [1]) }, to: archive)
            try harness.repo.publishRaw(Self.app, "1.1.0", archive: archive, installedSize: 1000, files: 10)
        }
        #expect(code == .archiveTooManyFiles)
    }
}
