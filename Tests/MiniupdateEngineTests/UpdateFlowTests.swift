import Foundation
import MiniupdateCore
import MiniupdateEngine
import MiniupdateRepository
import MiniupdateTestSupport
import Testing

@Suite struct UpdateFlowTests {
    static let weather = "com.example.weather"

    @Test(arguments: [true, false])
    func installsChecksDownloadsAppliesAndRollsBack(http: Bool) async throws {
        let harness = try await EngineHarness.make(http: http)
        try harness.repo.publish(Self.weather, "1.0.0")
        try await harness.withEngine { engine, events in
            let installed = try await engine.install(appID(Self.weather))
            #expect(installed == ApplyResult(app: appID(Self.weather), version: version("1.0.0"), previousVersion: nil))
            #expect(harness.current(Self.weather) == "versions/1.0.0")
            #expect(harness.installedFile(Self.weather) == "\(Self.weather) 1.0.0\n")

            try harness.repo.publish(Self.weather, "1.1.0")
            let check = try await engine.check(appID(Self.weather))
            #expect(check == CheckResult(hasUpdate: true, version: version("1.1.0")))
            try await events.wait(for: Self.weather) { $0 == .ready(version: version("1.1.0")) }
            let kinds = events.of(Self.weather).filter { !$0.isProgress }
            #expect(kinds.suffix(2) == [.checked(hasUpdate: true, version: version("1.1.0")), .ready(version: version("1.1.0"))])
            #expect(events.of(Self.weather).contains { $0.isProgress })
            let ready = try await engine.status(of: appID(Self.weather))
            #expect(ready.state == .ready)
            #expect(ready.stagedVersion == version("1.1.0"))
            #expect(harness.current(Self.weather) == "versions/1.0.0")

            let applied = try await engine.applyUpdate(appID(Self.weather))
            #expect(applied == ApplyResult(app: appID(Self.weather), version: version("1.1.0"), previousVersion: version("1.0.0")))
            #expect(harness.installedFile(Self.weather) == "\(Self.weather) 1.1.0\n")
            try await events.wait(for: Self.weather) { $0 == .applied(version: version("1.1.0"), previous: version("1.0.0")) }

            try harness.repo.publish(Self.weather, "1.2.0")
            try await engine.check(appID(Self.weather))
            try await events.wait(for: Self.weather) { $0 == .ready(version: version("1.2.0")) }
            try await engine.applyUpdate(appID(Self.weather))
            try await waitUntil { harness.versionsOnDisk(Self.weather) == ["1.1.0", "1.2.0"] }

            // Rollback returns to 1.1.0 and holds 1.2.0 back.
            let rolledBack = try await engine.rollback(appID(Self.weather))
            #expect(rolledBack == ApplyResult(app: appID(Self.weather), version: version("1.1.0"), previousVersion: version("1.2.0")))
            #expect(harness.installedFile(Self.weather) == "\(Self.weather) 1.1.0\n")
            try await waitUntil { harness.versionsOnDisk(Self.weather) == ["1.1.0"] }
            #expect(try await engine.check(appID(Self.weather)) == CheckResult(hasUpdate: false, version: nil))
            let noPrevious = await #expect(throws: UpdateError.self) { try await engine.rollback(appID(Self.weather)) }
            #expect(noPrevious?.code == .noPreviousVersion)

            // Something newer than the held-back version is offered again.
            try harness.repo.publish(Self.weather, "1.3.0")
            #expect(try await engine.check(appID(Self.weather)) == CheckResult(hasUpdate: true, version: version("1.3.0")))
        }
        await harness.remove()
    }

    @Test func applyBeforeAnUpdateIsReadyChangesNothing() async throws {
        let harness = try await EngineHarness.make(http: false)
        try harness.repo.publish(Self.weather, "1.0.0")
        try await harness.withEngine { engine, _ in
            try await engine.install(appID(Self.weather))
            let error = await #expect(throws: UpdateError.self) { try await engine.applyUpdate(appID(Self.weather)) }
            #expect(error?.code == .noUpdateReady)
            let unknown = await #expect(throws: UpdateError.self) { try await engine.applyUpdate(appID("com.example.unknown")) }
            #expect(unknown?.code == .unknownApp)
            #expect(harness.current(Self.weather) == "versions/1.0.0")
        }
        await harness.remove()
    }

    @Test func aDevelopmentInstallIsNeverChecked() async throws {
        let harness = try await EngineHarness.make(http: true)
        try harness.repo.publish(Self.weather, "5.0.0")
        let tree = harness.state.sub("dev-tree")
        try writeTree(["index.html": "work in progress\n"], at: tree)
        try await harness.withEngine { engine, events in
            try await engine.installDevelopment(appID(Self.weather), from: tree)
            #expect(try await engine.check(appID(Self.weather)) == CheckResult(hasUpdate: false, version: nil))
            #expect(try await engine.checkAll()[appID(Self.weather)] == CheckResult(hasUpdate: false, version: nil))
            #expect(harness.server!.requests.isEmpty)
            #expect(events.of(Self.weather).allSatisfy { $0 == .checked(hasUpdate: false, version: nil) })
            let status = try await engine.status(of: appID(Self.weather))
            #expect(status.state == .development)
            #expect(status.installedVersion == nil)
            #expect(harness.installedFile(Self.weather) == "work in progress\n")
        }
        await harness.remove()
    }

    @Test func neverOffersALowerVersion() async throws {
        let harness = try await EngineHarness.make(http: false)
        try harness.repo.publish(Self.weather, "2.0.0")
        try await harness.withEngine { engine, _ in
            try await engine.install(appID(Self.weather))
            let temp = try TemporaryDirectory()
            defer { temp.remove() }
            try PackageBuilder.build(from: harness.state.sub("state/apps/\(Self.weather)/current/"), to: temp.sub("old.tar.zst"))
            try harness.repo.publishRaw(Self.weather, "1.9.0", archive: temp.sub("old.tar.zst"))
            #expect(try await engine.check(appID(Self.weather)) == CheckResult(hasUpdate: false, version: nil))
            #expect(harness.current(Self.weather) == "versions/2.0.0")
        }
        await harness.remove()
    }

    @Test func checksAThousandAppsWithOneIndexFetchAndThenA304() async throws {
        let harness = try await EngineHarness.make(http: true)
        try harness.repo.publishMany(1000)
        try preinstall((0..<1000).map { "com.example.app\($0)" }, version: "1.0.0", in: harness)
        try await harness.withEngine { engine, _ in
            let results = try await engine.checkAll()
            #expect(results.count == 1000)
            #expect(results.values.allSatisfy { !$0.hasUpdate })
            #expect(harness.server!.requests(to: "/index.signed").map(\.status) == [200])
            try await engine.checkAll()
            #expect(harness.server!.requests(to: "/index.signed").map(\.status) == [200, 304])
            #expect(harness.server!.requests.count == 2)
        }
        await harness.remove()
    }

    @Test func concurrentChecksAndInstallsCoalesce() async throws {
        let harness = try await EngineHarness.make(http: true)
        try harness.repo.publish(Self.weather, "1.0.0")
        let server = harness.server!
        server.setFault(.delay(.milliseconds(300)), for: "/index.signed")
        try await harness.withEngine { engine, _ in
            try await withThrowingTaskGroup(of: ApplyResult.self) { group in
                for _ in 0..<10 { group.addTask { try await engine.install(appID(Self.weather)) } }
                for try await result in group { #expect(result.version == version("1.0.0")) }
            }
            #expect(server.requests(to: "/index.signed").count == 1)
            #expect(server.requests.filter { $0.path.hasSuffix(".tar.zst") }.count == 1)
            // Applied once: the other nine saw it installed and did not switch again.
            let status = try await engine.status(of: appID(Self.weather))
            #expect(status.installedVersion == version("1.0.0"))
            #expect(status.previousVersion == nil)

            server.clearLog()
            try await withThrowingTaskGroup(of: CheckResult.self) { group in
                for _ in 0..<20 { group.addTask { try await engine.check(appID(Self.weather)) } }
                for try await result in group { #expect(!result.hasUpdate) }
            }
            #expect(server.requests(to: "/index.signed").count == 1)
        }
        await harness.remove()
    }
}

extension UpdateFlowTests {
    @Test func aNewerVersionPublishedDuringADownloadWaitsItsTurn() async throws {
        let harness = try await EngineHarness.make(http: true)
        try harness.repo.publish(Self.weather, "1.0.0")
        try preinstall([Self.weather], version: "1.0.0", in: harness)
        let first = try harness.repo.publish(Self.weather, "1.1.0")
        // 1.1.0's package waits at the server until 1.2.0 is published and checked.
        harness.server!.setFault(.hold, for: "/" + first.package)
        let server = harness.server!
        try await harness.withEngine { engine, events in
            #expect(try await engine.check(appID(Self.weather)).version == version("1.1.0"))
            try await waitUntil { server.heldRequests == 1 }
            try harness.repo.publish(Self.weather, "1.2.0")
            #expect(try await engine.check(appID(Self.weather)).version == version("1.2.0"))
            server.releaseHeldRequests()
            // 1.2.0 waits for 1.1.0's download to end, so by its ready 1.1.0's is over.
            try await events.wait(for: Self.weather) { $0 == .ready(version: version("1.2.0")) }
            #expect(server.requests(to: "/" + first.package).count == 1)
            #expect(!events.of(Self.weather).contains { $0.isFailed }, "\(events.of(Self.weather))")
            #expect(try await engine.status(of: appID(Self.weather)).stagedVersion == version("1.2.0"))
            try await engine.applyUpdate(appID(Self.weather))
            #expect(harness.installedFile(Self.weather) == "\(Self.weather) 1.2.0\n")
        }
        await harness.remove()
    }

    @Test func aReloadDuringAFetchDoesNotMakeTheOldRepositoryTheBaseline() async throws {
        let harness = try await EngineHarness.make(http: true)
        for minor in 0..<5 { try harness.repo.publish(Self.weather, "1.\(minor).0") }  // serial 5
        let other = try RepositoryFixture(key: harness.repo.key)  // same key, serial 1
        defer { other.remove() }
        try other.publish(Self.weather, "2.0.0")
        try preinstall([Self.weather], version: "1.0.0", in: harness)
        // Held until the reload is done: held for a fixed time instead, a slow machine could
        // let the fetch finish before the test saw it waiting.
        harness.server!.setFault(.hold, for: "/index.signed")
        let engine = try await harness.makeEngine()
        try await EngineHarness.run(engine) { engine, _ in
            async let inFlight = engine.check(appID(Self.weather))
            // Reload exactly while the server holds the old repository's index.
            let server = harness.server!
            try await waitUntil { server.heldRequests == 1 }
            var moved = harness.configuration()
            moved.repository = other.fileURL
            try await engine.reconfigure(moved)
            server.releaseHeldRequests()
            let outcome: UpdateError.Code?
            do {
                _ = try await inFlight
                outcome = nil
            } catch let error as UpdateError {
                outcome = error.code
            }
            #expect(outcome == .cancelled)
            #expect(try await engine.check(appID(Self.weather)) == CheckResult(hasUpdate: true, version: version("2.0.0")))
        }
        await harness.remove()
    }

    @Test func downloadsOfDifferentAppsRunInParallelUpToTheLimit() async throws {
        let harness = try await EngineHarness.make(http: true)
        let apps = (0..<6).map { "com.example.parallel\($0)" }
        for app in apps { try harness.repo.publish(app, "1.0.0") }
        try preinstall(apps, version: "0.9.0", in: harness)
        for app in apps {
            let release = try #require(try harness.repo.publisher.currentIndex()?.apps[appID(app)])
            harness.server!.setFault(.delay(.milliseconds(300)), for: "/" + release.package)
        }
        try await harness.withEngine(limits: EngineLimits(maximumConcurrentDownloads: 3)) { engine, events in
            try await engine.checkAll()
            for app in apps { try await events.wait(for: app) { $0 == .ready(version: version("1.0.0")) } }
        }
        #expect(harness.server!.maximumConcurrentDelayedRequests == 3)
        await harness.remove()
    }
}

/// Installs apps by hand, as an earlier run would have left them.
func preinstall(_ apps: [String], version: String, in harness: EngineHarness) throws {
    for app in apps {
        let directory = harness.state.sub("state/apps/\(app)")
        try writeTree(["index.html": "\(app) \(version)\n"], at: "\(directory)/versions/\(version)")
        try FileManager.default.createSymbolicLink(atPath: "\(directory)/current", withDestinationPath: "versions/\(version)")
    }
}

