import Logging
import MiniupdateCore
@testable import MiniupdateDaemon
import MiniupdateEngine
import MiniupdateRepository
import MiniupdateTestSupport
import Synchronization
import Testing

@Suite struct MemoryReleaseServiceTests {
    final class Releases: Sendable {
        let count = Atomic<Int>(0)
        var value: Int { count.load(ordering: .relaxed) }
    }

    /// Sleeps that end when the test wakes them: the quiet period passes when the test
    /// says, not after a wait that a loaded machine stretches.
    final class ManualSleeper: Sendable {
        private struct State {
            var waiting: [Int: CheckedContinuation<Void, any Error>] = [:]
            var next = 0
        }

        private let state = Mutex(State())

        /// Sleeps under way.
        var sleeping: Int { state.withLock { $0.waiting.count } }

        @Sendable func sleep(_: Duration) async throws {
            let id = state.withLock { state in
                defer { state.next += 1 }
                return state.next
            }
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    state.withLock { $0.waiting[id] = continuation }
                }
            } onCancel: {
                state.withLock { $0.waiting.removeValue(forKey: id) }?.resume(throwing: CancellationError())
            }
        }

        /// Ends every sleep under way, as if the quiet period had passed.
        func wakeAll() {
            let waiting = state.withLock { state in
                defer { state.waiting = [:] }
                return state.waiting
            }
            for continuation in waiting.values { continuation.resume() }
        }
    }

    /// Waits out quiet periods until the service releases, and returns how many it waited.
    func wakeUntilReleased(_ sleeper: ManualSleeper, _ releases: Releases, beyond count: Int) async throws -> Int {
        var periods = 0
        while releases.value == count {
            try await waitUntil { sleeper.sleeping > 0 || releases.value > count }
            guard releases.value == count else { break }
            sleeper.wakeAll()
            periods += 1
        }
        return periods
    }

    @Test func releasesOnceAfterEachBurstWhenItFallsQuiet() async throws {
        let harness = try await ServerHarness.make()
        let app = try AppID("com.example.memory")
        try harness.repo.publish(app.rawValue, "1.0.0")
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let engine = try await UpdateEngine(configuration: harness.configuration(), logger: logger)
        let releases = Releases()
        let sleeper = ManualSleeper()
        let service = MemoryReleaseService(engine: engine, quietPeriod: .seconds(1), release: { releases.count.add(1, ordering: .relaxed) }, sleep: sleeper.sleep)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await engine.run() }
            group.addTask { try await service.run() }
            defer { group.cancelAll() }
            #expect(releases.value == 0)

            // One burst: an install and three checks, each bringing events. However the
            // service's reading of them interleaves with its waits, it releases once,
            // after a wait in which no event came.
            _ = try await engine.install(app)
            for _ in 0..<3 { _ = try await engine.checkAll() }
            #expect(try await wakeUntilReleased(sleeper, releases, beyond: 0) >= 1)
            #expect(releases.value == 1, "a burst should bring one release")

            _ = try await engine.checkAll()
            #expect(try await wakeUntilReleased(sleeper, releases, beyond: 1) >= 1)
            #expect(releases.value == 2)
        }
        await harness.remove()
    }
}
