import Logging
import MiniupdateCore
@testable import MiniupdateDaemon
import MiniupdateEngine
import MiniupdateRepository
import Synchronization
import Testing

@Suite struct MemoryReleaseServiceTests {
    final class Releases: Sendable {
        let count = Atomic<Int>(0)
        var value: Int { count.load(ordering: .relaxed) }
    }

    @Test func releasesOnceAfterEachBurstAndNeverWhileIdle() async throws {
        let harness = try await ServerHarness.make()
        let app = try AppID("com.example.memory")
        try harness.repo.publish(app.rawValue, "1.0.0")
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let engine = try await UpdateEngine(configuration: harness.configuration(), logger: logger)
        let releases = Releases()
        // Generous against the gaps between the checks of one burst, which a loaded CI
        // machine stretches to hundreds of milliseconds (300 ms was not enough there).
        let quiet = Duration.milliseconds(1500)
        let service = MemoryReleaseService(engine: engine, quietPeriod: quiet, release: { releases.count.add(1, ordering: .relaxed) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await engine.run() }
            group.addTask { try await service.run() }
            defer { group.cancelAll() }
            try await Task.sleep(for: quiet * 2)
            #expect(releases.value == 0, "released with nothing done")

            // One burst: an install and three checks, each bringing events.
            _ = try await engine.install(app)
            for _ in 0..<3 { _ = try await engine.checkAll() }
            try await waitUntil { releases.value > 0 }
            try await Task.sleep(for: quiet * 2)
            #expect(releases.value == 1, "a burst should bring one release")

            _ = try await engine.checkAll()
            try await waitUntil { releases.value > 1 }
            try await Task.sleep(for: quiet * 2)
            #expect(releases.value == 2)
        }
        await harness.remove()
    }
}
