#if canImport(Glibc)
import Glibc
#endif
import CSystemd

/// Tells systemd about the daemon's life cycle through `sd_notify(3)`: `READY=1`,
/// `STATUS=`, `RELOADING=1` with `MONOTONIC_USEC=`, `STOPPING=1` and `WATCHDOG=1`.
///
/// systemd 252 has no `Type=notify-reload`; the unit uses `Type=notify` with
/// `ExecReload=/bin/kill -HUP $MAINPID`, and a reload is reported as `RELOADING=1` then
/// `READY=1`.
///
/// Its methods are those of the daemon's `LifecycleNotifier`; the conformance is declared
/// where both are known (the `miniupdated` executable), so this target depends only on
/// libsystemd and logging.
public struct SystemdNotifier: Sendable {
    /// Whether the daemon runs under systemd's notify protocol (`$NOTIFY_SOCKET` is set).
    public static var isAvailable: Bool { getenv("NOTIFY_SOCKET") != nil }

    /// A notifier for the socket named by `$NOTIFY_SOCKET`; when it is unset, every
    /// notification is silently dropped.
    public init() {}

    /// Reports that start-up, or a reload, has finished (`READY=1`).
    public func ready() { send("READY=1") }

    /// Reports that a reload has begun (`RELOADING=1`), with the current `CLOCK_MONOTONIC`
    /// time in microseconds as `MONOTONIC_USEC`, as systemd requires; follow it with
    /// ``ready()``.
    public func reloading() {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let microseconds = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
        send("RELOADING=1\nMONOTONIC_USEC=\(microseconds)")
    }

    /// Reports that the daemon has begun shutting down (`STOPPING=1`).
    public func stopping() { send("STOPPING=1") }

    /// Sets the one-line status `systemctl status` shows (`STATUS=`); newlines in `text`
    /// become spaces.
    public func status(_ text: String) {
        // One line: systemd shows STATUS= as is, and a newline would start another field.
        send("STATUS=" + text.replacing("\n", with: " "))
    }

    /// How often systemd expects ``watchdog()`` (`WatchdogSec=`), or nil when the unit has
    /// no watchdog or it is meant for another process. Send keep-alives well within it,
    /// typically at half the interval.
    public var watchdogInterval: Duration? {
        var microseconds: UInt64 = 0
        guard sd_watchdog_enabled(0, &microseconds) > 0, microseconds > 0 else { return nil }
        return .microseconds(Int64(microseconds))
    }

    /// Tells the service manager the daemon is alive (`WATCHDOG=1`); must come within
    /// ``watchdogInterval``.
    public func watchdog() { send("WATCHDOG=1") }

    private func send(_ state: String) {
        _ = sd_notify(0, state)
    }
}
