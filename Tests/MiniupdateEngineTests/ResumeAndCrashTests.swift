import Foundation
import MiniupdateEngine
import MiniupdateRepository
import MiniupdateTestSupport
import Testing

@Suite struct ResumeAndCrashTests {
    static let app = "com.example.maps"

    /// 4 MiB that zstd cannot shrink, so the package is about as large.
    static func bigFiles(seed: UInt64) -> [String: String] {
        var generator = seed
        var text = ""
        text.reserveCapacity(4 << 20)
        while text.utf8.count < 4 << 20 {
            generator = generator &* 6364136223846793005 &+ 1442695040888963407
            text += String(generator, radix: 36)
        }
        return ["index.html": "maps big\n", "data.bin": text]
    }

    /// Installs 1.0.0 and stages 1.1.0, then stops the engine.
    func installThenStage(in harness: EngineHarness) async throws {
        try harness.repo.publish(Self.app, "1.0.0")
        try await harness.withEngine { engine, events in
            try await engine.install(appID(Self.app))
            try harness.repo.publish(Self.app, "1.1.0")
            try await engine.check(appID(Self.app))
            try await events.wait(for: Self.app) { $0 == .ready(version: version("1.1.0")) }
        }
    }

    /// A new engine (a restart) reports `staged` as ready, and applies it.
    func expectStagedThenApply(_ staged: String, in harness: EngineHarness) async throws {
        try await harness.withEngine { engine, _ in
            let status = try await engine.status(of: appID(Self.app))
            #expect(status.state == .ready)
            #expect(status.stagedVersion == version(staged))
            try await engine.applyUpdate(appID(Self.app))
        }
    }

    @Test func anInterruptedDownloadResumesWithOnlyTheMissingBytes() async throws {
        let harness = try await EngineHarness.make(http: true)
        try harness.repo.publish(Self.app, "1.0.0")
        try preinstall([Self.app], version: "1.0.0", in: harness)
        let release = try harness.repo.publish(Self.app, "2.0.0", files: Self.bigFiles(seed: 7))
        let server = harness.server!
        let packagePath = "/" + release.package
        server.setFault(.truncate(after: 1 << 20), for: packagePath)
        let partial = harness.state.sub("cache/downloads/\(Self.app)/2.0.0.partial")

        try await harness.withEngine { engine, events in
            try await engine.check(appID(Self.app))
            try await events.wait(for: Self.app) { $0.isFailed }
        }
        let kept = try #require(try FileManager.default.attributesOfItem(atPath: partial)[.size] as? Int)
        #expect(kept > 0 && kept <= 1 << 20)
        #expect(harness.current(Self.app) == "versions/1.0.0")

        // A new engine (a daemon restart) picks the partial up.
        server.setFault(nil, for: packagePath)
        server.clearLog()
        try await harness.withEngine { engine, events in
            try await engine.check(appID(Self.app))
            try await events.wait(for: Self.app) { $0 == .ready(version: version("2.0.0")) }
            try await engine.applyUpdate(appID(Self.app))
        }
        let resumed = try #require(server.requests(to: packagePath).first)
        #expect(resumed.header("Range") == "bytes=\(kept)-")
        #expect(resumed.status == 206)
        #expect(resumed.bodyBytes == Int(release.size) - kept)
        #expect(harness.installedFile(Self.app, "data.bin") == Self.bigFiles(seed: 7)["data.bin"])
        #expect(!FileManager.default.fileExists(atPath: partial))
        await harness.remove()
    }

    @Test func aChangedPackageIsDownloadedAfreshNotSpliced() async throws {
        let harness = try await EngineHarness.make(http: true)
        try harness.repo.publish(Self.app, "1.0.0")
        try preinstall([Self.app], version: "1.0.0", in: harness)
        let first = try harness.repo.publish(Self.app, "2.0.0", files: Self.bigFiles(seed: 1))
        harness.server!.setFault(.truncate(after: 1 << 20), for: "/" + first.package)
        try await harness.withEngine { engine, events in
            try await engine.check(appID(Self.app))
            try await events.wait(for: Self.app) { $0.isFailed }
        }
        // The publisher replaces 2.0.0 with 2.0.1: the old partial is abandoned.
        let second = try harness.repo.publish(Self.app, "2.0.1", files: Self.bigFiles(seed: 2))
        harness.server!.clearLog()
        try await harness.withEngine { engine, events in
            try await engine.check(appID(Self.app))
            try await events.wait(for: Self.app) { $0 == .ready(version: version("2.0.1")) }
        }
        #expect(harness.server!.requests(to: "/" + second.package).map { $0.header("Range") } == [nil])
        #expect(!FileManager.default.fileExists(atPath: harness.state.sub("cache/downloads/\(Self.app)/2.0.0.partial")))
        await harness.remove()
    }

    @Test func aStopBetweenStagingAndApplyKeepsThePreviousVersionCurrent() async throws {
        let harness = try await EngineHarness.make(http: false)
        try await installThenStage(in: harness)
        #expect(harness.current(Self.app) == "versions/1.0.0")
        #expect(harness.installedFile(Self.app) == "\(Self.app) 1.0.0\n")
        try await expectStagedThenApply("1.1.0", in: harness)
        #expect(harness.installedFile(Self.app) == "\(Self.app) 1.1.0\n")
        await harness.remove()
    }

    @Test func startUpRepairsWhatACrashLeftBehind() async throws {
        let harness = try await EngineHarness.make(http: false)
        try await installThenStage(in: harness)
        let appDirectory = harness.state.sub("state/apps/\(Self.app)")
        // Half-unpacked tree, half-deleted tree, a temporary link and state file, and an
        // orphan version: what SIGKILL at various points leaves.
        try writeTree(["half.js": "x"], at: "\(appDirectory)/staging/1.2.0.tmp-abc")
        try writeTree(["old.js": "x"], at: "\(appDirectory)/trash/0.9.0.xyz")
        try FileManager.default.createSymbolicLink(atPath: "\(appDirectory)/.current.tmp-1", withDestinationPath: "versions/1.1.0")
        try Data("{".utf8).write(to: URL(fileURLWithPath: "\(appDirectory)/.state.json.tmp-2"))
        try writeTree(["index.html": "orphan"], at: "\(appDirectory)/versions/0.5.0")
        // The crash hit after `current` was switched but before the state was written.
        try FileManager.default.removeItem(atPath: "\(appDirectory)/current")
        try FileManager.default.createSymbolicLink(atPath: "\(appDirectory)/current", withDestinationPath: "versions/1.1.0")

        try await harness.withEngine { engine, _ in
            let status = try await engine.status(of: appID(Self.app))
            #expect(status.installedVersion == version("1.1.0"))
            #expect(status.previousVersion == version("1.0.0"))
            #expect(status.stagedVersion == nil)
            let rolledBack = try await engine.rollback(appID(Self.app))
            #expect(rolledBack.version == version("1.0.0"))
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: appDirectory).sorted()
        #expect(leftovers == ["current", "state.json", "versions"])
        #expect(harness.versionsOnDisk(Self.app) == ["1.0.0"])
        await harness.remove()
    }

    @Test func aTreeStagedJustBeforeACrashIsAdopted() async throws {
        let harness = try await EngineHarness.make(http: false)
        try harness.repo.publish(Self.app, "1.0.0")
        try await harness.withEngine { engine, _ in try await engine.install(appID(Self.app)) }
        // The rename into versions/ happened; the state write did not.
        try writeTree(["index.html": "1.2.0 staged\n"], at: harness.state.sub("state/apps/\(Self.app)/versions/1.2.0"))
        try await expectStagedThenApply("1.2.0", in: harness)
        #expect(harness.installedFile(Self.app) == "1.2.0 staged\n")
        await harness.remove()
    }

    @Test func aCorruptStateFileIsRebuiltFromTheFilesystem() async throws {
        let harness = try await EngineHarness.make(http: false)
        try harness.repo.publish(Self.app, "1.0.0")
        try await harness.withEngine { engine, _ in try await engine.install(appID(Self.app)) }
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: harness.state.sub("state/apps/\(Self.app)/state.json")))
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: harness.state.sub("state/repository.json")))
        try await harness.withEngine { engine, _ in
            let status = try await engine.status(of: appID(Self.app))
            let check = try await engine.check(appID(Self.app))
            #expect(status.installedVersion == version("1.0.0"))
            #expect(check == CheckResult(hasUpdate: false, version: nil))
        }
        await harness.remove()
    }

    @Test func aFailedStagingLeavesNothingBehind() async throws {
        let harness = try await EngineHarness.make(http: false)
        try harness.repo.publish(Self.app, "1.0.0")
        try preinstall([Self.app], version: "1.0.0", in: harness)
        let archive = harness.state.sub("evil.tar.zst")
        try ArchiveGenerator.write([.file("ok.txt", [1, 2, 3]), .file("../evil", [1])], to: archive)
        try harness.repo.publishRaw(Self.app, "1.1.0", archive: archive)
        try await harness.withEngine { engine, events in
            try await engine.check(appID(Self.app))
            #expect(try await events.wait(for: Self.app) { $0.isFailed }.failureCode == .archiveUnsafePath)
            let status = try await engine.status(of: appID(Self.app))
            #expect(status.state == .failed)
            #expect(status.lastError?.code == .archiveUnsafePath)
        }
        let staging = harness.state.sub("state/apps/\(Self.app)/staging")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: staging)) ?? []).isEmpty)
        #expect(harness.versionsOnDisk(Self.app) == ["1.0.0"])
        #expect(!FileManager.default.fileExists(atPath: harness.state.sub("cache/downloads/\(Self.app)/1.1.0.partial")))
        await harness.remove()
    }
}
