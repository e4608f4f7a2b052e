import CMiniupdateSystem
import NIOCore
import NIOPosix
import Synchronization

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
    /// Call it once, from the main thread, before the first task starts. Returns false if
    /// the runtime's hook could not be found (``run()`` then logs a warning).
    @discardableResult
    public static func runTasksOnEventLoops() -> Bool {
        let installed = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
            || installEnqueueHookByLinking()
        executorTakeOverFailed.store(!installed, ordering: .relaxed)
        return installed
    }

    /// The runtime's hook type, as NIO declares it (`swift_task_enqueueGlobal_hook`).
    private typealias EnqueueGlobalHook = @convention(thin) (UnownedJob, @convention(thin) (UnownedJob) -> Void) -> Void

    /// What NIO does, for the binary it cannot serve: with the Swift runtime linked
    /// statically (the .deb's binaries), `dlsym` cannot find the hook, so NIO gives up; the
    /// C shim reaches the same hook through the linker. Each job goes to the current event
    /// loop when there is one (`any()` is sticky), else to the next.
    private static func installEnqueueHookByLinking() -> Bool {
        let hook: EnqueueGlobalHook = { job, _ in
            MultiThreadedEventLoopGroup.singleton.any().enqueue(ExecutorJob(job))
        }
        return miniupdate_install_enqueue_global_hook(unsafeBitCast(hook, to: UnsafeMutableRawPointer.self)) != 0
    }

    /// ``runTasksOnEventLoops()`` was called and failed, for ``run()`` to report once logging
    /// is set up. (Not calling it, as tests embedding the daemon do, is no failure.)
    static let executorTakeOverFailed = Atomic<Bool>(false)
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
