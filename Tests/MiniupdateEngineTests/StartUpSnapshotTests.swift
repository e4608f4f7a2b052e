import Foundation
import MiniupdateEngine
import MiniupdateRepository
import MiniupdateTestSupport
import Testing

/// The start-up snapshot (`state/snapshot.json`): written by a clean stop, used once by the
/// next start, and never trusted over what changed on disk.
@Suite struct StartUpSnapshotTests {
    static let apps = ["com.example.notes", "com.example.clock"]

    /// Installs 1.0.0 of each app, stages 1.1.0 of the first, and stops cleanly.
    func prepare(_ harness: EngineHarness) async throws {
        for app in Self.apps { try harness.repo.publish(app, "1.0.0") }
        try await harness.withEngine { engine, events in
            for app in Self.apps { try await engine.install(appID(app)) }
            try harness.repo.publish(Self.apps[0], "1.1.0")
            try await engine.checkAll()
            try await events.wait(for: Self.apps[0]) { $0 == .ready(version: version("1.1.0")) }
        }
    }

    func snapshotPath(_ harness: EngineHarness) -> String { harness.state.sub("state/snapshot.json") }

    /// What a start reports, with the change counter left out.
    func status(_ engine: UpdateEngine) async -> EngineStatus {
        var status = await engine.status()
        status.generation = 0
        return status
    }

    /// A start from the snapshot reports what a start from the disk reports.
    @Test func aCleanStopLeavesASnapshotThatTheNextStartUsesOnce() async throws {
        let harness = try await EngineHarness.make(http: false)
        try await prepare(harness)
        #expect(FileManager.default.fileExists(atPath: snapshotPath(harness)))

        let logs = LogCapture()
        let fromSnapshot = try await harness.makeEngine(logger: logs.logger)
        #expect(logs.contains("2 from the start-up snapshot, 0 read from disk"), "\(logs.all)")
        #expect(!FileManager.default.fileExists(atPath: snapshotPath(harness)))
        let snapshotStatus = await status(fromSnapshot)
        #expect(snapshotStatus.apps.first { $0.app == appID(Self.apps[0]) }?.stagedVersion == version("1.1.0"))
        #expect(snapshotStatus.indexExpires != nil)

        // Closed without running, it writes no snapshot: the next start reads the disk.
        await fromSnapshot.close()
        let diskLogs = LogCapture()
        let fromDisk = try await harness.makeEngine(logger: diskLogs.logger)
        #expect(diskLogs.contains("0 from the start-up snapshot, 2 read from disk"), "\(diskLogs.all)")
        // Except each app's last check time: a check writes it to `state.json` only when
        // something else changes, and the snapshot keeps the engine's newer one.
        #expect(snapshotStatus.apps.allSatisfy { $0.lastCheck != nil })
        var diskStatus = await status(fromDisk), withoutTimes = snapshotStatus
        for index in diskStatus.apps.indices { diskStatus.apps[index].lastCheck = nil }
        for index in withoutTimes.apps.indices { withoutTimes.apps[index].lastCheck = nil }
        #expect(withoutTimes == diskStatus, "\(withoutTimes)\n\(diskStatus)")
        // Its clean stop writes a snapshot again.
        try await EngineHarness.run(fromDisk) { _, _ in }
        #expect(FileManager.default.fileExists(atPath: snapshotPath(harness)))

        // The index a snapshot start leaves undecoded is decoded by the first check.
        let againLogs = LogCapture()
        let again = try await harness.makeEngine(logger: againLogs.logger)
        #expect(againLogs.contains("2 from the start-up snapshot, 0 read from disk"), "\(againLogs.all)")
        try await EngineHarness.run(again) { engine, _ in
            let result = try await engine.check(appID(Self.apps[0]))
            #expect(result.hasUpdate && result.version == version("1.1.0"))
        }
        await harness.remove()
    }

    /// The index a snapshot start leaves on disk still makes the first check conditional:
    /// it is decoded then, and the repository's 304 reuses it.
    @Test func theFirstCheckAfterASnapshotStartIsConditional() async throws {
        let harness = try await EngineHarness.make(http: true)
        try await prepare(harness)
        let logs = LogCapture()
        let engine = try await harness.makeEngine(logger: logs.logger)
        #expect(logs.contains("2 from the start-up snapshot, 0 read from disk"), "\(logs.all)")
        let fetchesBefore = harness.server!.requests(to: "/index.signed").count
        try await EngineHarness.run(engine) { engine, _ in
            let results = try await engine.checkAll()
            #expect(results[appID(Self.apps[0])] == CheckResult(hasUpdate: true, version: version("1.1.0")))
            #expect(results[appID(Self.apps[1])] == CheckResult(hasUpdate: false, version: nil))
        }
        let fetches = harness.server!.requests(to: "/index.signed").dropFirst(fetchesBefore)
        #expect(fetches.map(\.status) == [304])
        #expect(fetches.first?.header("If-None-Match") != nil)
        await harness.remove()
    }

    /// An app changed while the daemon was stopped (here `current` switched by hand, as a
    /// crash between the switch and the state file would leave it) is read from disk;
    /// the unchanged one still comes from the snapshot.
    @Test func anAppChangedWhileStoppedIsReadFromDisk() async throws {
        let harness = try await EngineHarness.make(http: false)
        try await prepare(harness)
        let current = harness.state.sub("state/apps/\(Self.apps[0])/current")
        try FileManager.default.removeItem(atPath: current)
        try FileManager.default.createSymbolicLink(atPath: current, withDestinationPath: "versions/1.1.0")

        let logs = LogCapture()
        let engine = try await harness.makeEngine(logger: logs.logger)
        #expect(logs.contains("1 from the start-up snapshot, 1 read from disk"), "\(logs.all)")
        let changed = try await engine.status(of: appID(Self.apps[0]))
        #expect(changed.installedVersion == version("1.1.0"))
        #expect(changed.previousVersion == version("1.0.0"))
        #expect(changed.stagedVersion == nil)
        #expect(try await engine.status(of: appID(Self.apps[1])).installedVersion == version("1.0.0"))
        await harness.remove()
    }

    /// An app removed while stopped is gone; one added is read from disk.
    @Test func appsRemovedOrAddedWhileStoppedAreSeen() async throws {
        let harness = try await EngineHarness.make(http: false)
        try await prepare(harness)
        let apps = harness.state.sub("state/apps")
        try FileManager.default.moveItem(atPath: "\(apps)/\(Self.apps[1])", toPath: "\(apps)/com.example.copied")

        let logs = LogCapture()
        let engine = try await harness.makeEngine(logger: logs.logger)
        #expect(logs.contains("1 from the start-up snapshot, 1 read from disk"), "\(logs.all)")
        #expect(await engine.installedApps == [appID("com.example.copied"), appID(Self.apps[0])])
        await harness.remove()
    }

    enum Damage: String, CaseIterable, CustomTestStringConvertible {
        case garbage, truncated, badChunk, otherKeys
        var testDescription: String { rawValue }
    }

    /// A damaged snapshot, or one written for other trusted keys, is not used, and the
    /// start is the same as without it.
    @Test(arguments: Damage.allCases) func aDamagedOrForeignSnapshotIsNotUsed(_ damage: Damage) async throws {
        let harness = try await EngineHarness.make(http: false)
        try await prepare(harness)
        let path = snapshotPath(harness)
        var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        var keys = [harness.repo.publicKey]
        switch damage {
        case .garbage: lines = ["{\"format\":1,"]
        case .truncated: lines.removeLast()
        case .badChunk: lines[1] = "[{\"app\":\"com.example.notes\"}]"
        case .otherKeys: keys.append(RepositorySigningKey().publicKey)
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)

        let logs = LogCapture()
        let engine = try await harness.makeEngine(keys: keys, logger: logs.logger)
        #expect(logs.contains("0 from the start-up snapshot, 2 read from disk"), "\(logs.all)")
        #expect(!FileManager.default.fileExists(atPath: path))
        let status = try await engine.status(of: appID(Self.apps[0]))
        #expect(status.installedVersion == version("1.0.0"))
        #expect(status.stagedVersion == version("1.1.0"))
        await harness.remove()
    }
}
