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
    public var watchdogInterval: Duration? { nil }
    public func watchdog() {}
}

/// Reports the life cycle as log lines.
public struct LoggingNotifier: LifecycleNotifier {
    let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    public func ready() { logger.info("ready") }
    public func reloading() { logger.info("reloading") }
    public func stopping() { logger.info("stopping") }
    public func status(_ text: String) { logger.debug("status: \(text)") }
}
