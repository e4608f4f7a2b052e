import MiniupdateEngine
import ServiceLifecycle
import Synchronization

/// Returns the memory a burst of work freed to the system once the daemon falls quiet.
///
/// Work comes in bursts (a cold-start check of every app, a download) separated by hours of
/// idleness, and what a burst frees stays in the allocator's heaps, counted in the daemon's
/// resident memory, unless handed back. Once no engine event has come for
/// ``quietPeriod``, this calls ``release`` (``MemoryPolicy/releaseFreeMemory()`` in the
/// daemon) once for the whole burst: an idle daemon is never woken for it, a busy one not
/// slowed by it.
struct MemoryReleaseService: Service, CustomStringConvertible {
    let engine: UpdateEngine
    var quietPeriod: Duration = .seconds(1)
    var release: @Sendable () -> Void = MemoryPolicy.releaseFreeMemory
    /// How it waits out ``quietPeriod``: on an event loop's timer, or a test's clock.
    var sleep: @Sendable (Duration) async throws -> Void = EventLoopTimer.sleep(for:)
    var description: String { "memory release" }

    /// Counts batches of events; read to tell whether any came during a wait.
    private final class ActivityCounter: Sendable {
        let batches = Atomic<UInt64>(0)
    }

    func run() async throws {
        let events = engine.events()
        let activity = ActivityCounter()
        // A mark says "there was activity"; marks made while waiting collapse into one.
        let (marks, mark) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    for await _ in events.batches {
                        activity.batches.add(1, ordering: .relaxed)
                        mark.yield()
                    }
                    mark.finish()
                }
                group.addTask {
                    var released: UInt64 = 0
                    for await _ in marks {
                        var seen = activity.batches.load(ordering: .relaxed)
                        // The mark of a burst already released, left over from its last wait.
                        guard seen != released else { continue }
                        do {
                            while true {
                                try await sleep(quietPeriod)
                                let now = activity.batches.load(ordering: .relaxed)
                                if now == seen { break }
                                seen = now
                            }
                        } catch {
                            return
                        }
                        release()
                        released = seen
                    }
                }
            }
        }
    }
}
