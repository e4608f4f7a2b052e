import NIOCore
import NIOPosix

extension Daemon {
    /// Makes SwiftNIO's event loops the executor of every Swift task in the process.
    ///
    /// On Linux the default executor is libdispatch's global pool. Its first worker arms a
    /// once-a-second timer that watches the pool for the rest of the process's life: an
    /// idle daemon would wake 60 times a minute for nothing. The event loops sleep in
    /// `epoll_wait` until there is work, and a task that answers a socket no longer hops
    /// between the pool and a loop. Blocking file-system work runs on NIO's blocking pool
    /// instead (see the engine's `BlockingWork`).
    ///
    /// Call it once, from the main thread, before the first task starts.
    public static func runTasksOnEventLoops() {
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }
}

/// Sleeping on an event loop's timer, not `Task.sleep`.
///
/// `Task.sleep` on Linux arms a libdispatch timer whose expiry runs on the global pool,
/// which starts that pool's once-a-second monitor (see ``Daemon/runTasksOnEventLoops()``).
enum EventLoopTimer {
    /// Returns after `duration`, or throws `CancellationError` as soon as the task is cancelled.
    static func sleep(for duration: Duration) async throws {
        let (seconds, attoseconds) = duration.components
        let delay = TimeAmount.nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        let scheduled = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: delay) {}
        try await withTaskCancellationHandler {
            do {
                try await scheduled.futureResult.get()
            } catch EventLoopError.cancelled {
                throw CancellationError()
            }
        } onCancel: {
            scheduled.cancel()
        }
    }
}
