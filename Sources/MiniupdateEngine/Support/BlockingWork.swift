import NIOCore
import NIOPosix

/// Runs file-system work that blocks for long (unpacking a package, `syncfs`, deleting a
/// tree) on NIO's blocking pool, so that it never holds a thread that runs tasks or
/// serves sockets: in `miniupdated` those are the same event-loop threads.
enum BlockingWork {
    /// Runs `body` to completion even if the calling task is cancelled meanwhile, as the
    /// same call made inline would: a shutdown must not drop an unpack or a delete that was
    /// about to start (nor the download its caller then discards).
    static func run<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await NIOThreadPool.singleton.runIfActive(eventLoop: MultiThreadedEventLoopGroup.singleton.any(), body).get()
    }
}
