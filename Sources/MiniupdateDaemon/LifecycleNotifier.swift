import Logging

/// Where the daemon reports its life cycle: to systemd when it runs under it, to the log
/// otherwise. The daemon calls these at exactly one place each.
public protocol LifecycleNotifier: Sendable {
    /// The state is loaded and the socket is served.
    func ready()
    /// A reload (SIGHUP) started; ``ready()`` follows when it is done.
    func reloading()
    /// Shutdown started.
    func stopping()
    /// A one-line description of what the daemon is doing, for people.
    func status(_ text: String)
    /// How often the supervisor expects a sign of life, if it watches at all.
    var watchdogInterval: Duration? { get }
    /// A sign of life, sent only after the daemon proved itself healthy.
    func watchdog()
}

extension LifecycleNotifier {
    /// Nil: no supervisor watches, so the daemon runs no watchdog service.
    public var watchdogInterval: Duration? { nil }
    /// Does nothing, for notifiers whose supervisor has no watchdog.
    public func watchdog() {}
}

/// Reports the life cycle as log lines.
public struct LoggingNotifier: LifecycleNotifier {
    let logger: Logger

    /// A notifier that writes to `logger`, at the level that logger has.
    public init(logger: Logger) { self.logger = logger }

    /// Logs `ready` at info level.
    public func ready() { logger.info("ready") }
    /// Logs `reloading` at info level.
    public func reloading() { logger.info("reloading") }
    /// Logs `stopping` at info level.
    public func stopping() { logger.info("stopping") }
    /// Logs the status line at debug level only: it changes with every burst of work, too
    /// often for the default `info` log.
    public func status(_ text: String) { logger.debug("status: \(text)") }
}
