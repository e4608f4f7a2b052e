import Logging
import MiniupdateEngine
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Sends the watchdog's sign of life at half the supervisor's interval, but only after
/// proving the daemon healthy: the engine actor answers, and every event loop runs a task.
/// A stuck actor or loop stops the pings, and systemd restarts the daemon.
struct WatchdogService: Service, CustomStringConvertible {
    let engine: UpdateEngine
    let notifier: any LifecycleNotifier
    let interval: Duration
    let logger: Logger
    var description: String { "watchdog" }

    func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            await engine.ping()
            for loop in MultiThreadedEventLoopGroup.singleton.makeIterator() {
                try await loop.submit {}.get()
            }
            notifier.watchdog()
            try await EventLoopTimer.sleep(for: interval)
        }
    }
}
