import FoundationEssentials
import MiniupdateCore
import MiniupdateEngine
import NIOCore
import NIOPosix
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Keeps the daemon's one-line status (systemd's `STATUS=`) current, in words an admin
/// understands: `Downloading com.example.weather 1.4.0 (42%)`,
/// `Idle: 12 apps, 2 updates ready, last check 12:00:05`,
/// `Last check failed: repository unreachable`. It only works when an event arrives, so an
/// idle daemon stays asleep.
///
/// A check of every app brings one event per app: recomputing the whole status for each
/// would cost O(apps²). Events only mark the status stale; a second task recomputes it at
/// most twice a second, and always once after the last event.
struct StatusService: Service, CustomStringConvertible {
    let engine: UpdateEngine
    let notifier: any LifecycleNotifier
    /// Why the last reload was rejected, if it was: the status says so until a reload works.
    let reloadError: @Sendable () -> UpdateError?
    let minimumInterval: Duration = .milliseconds(500)
    var description: String { "status" }

    func run() async throws {
        let events = engine.events()
        // At most one pending "stale" mark: marks made while recomputing collapse into one.
        let (stale, markStale) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    var lastProgress = ContinuousClock.now - .seconds(1)
                    for await batch in events.batches {
                        var changed = false
                        for event in batch {
                            guard case .progress(let version, let bytes, let total) = event.kind else {
                                changed = true
                                continue
                            }
                            // Progress arrives up to 4 times a second per app; once a second is plenty here.
                            guard ContinuousClock.now - lastProgress >= .seconds(1) else { continue }
                            lastProgress = ContinuousClock.now
                            notifier.status("Downloading \(event.app) \(version) (\(total > 0 ? bytes * 100 / total : 0)%)")
                        }
                        if changed { markStale.yield() }
                    }
                    markStale.finish()
                }
                group.addTask {
                    for await _ in stale {
                        notifier.status(Self.describe(await engine.status(), reloadError: reloadError()))
                        try? await EventLoopTimer.sleep(for: minimumInterval)
                    }
                }
            }
        }
    }

    /// The status line; a rejected reload comes first, as what an admin must act on.
    static func describe(_ status: EngineStatus, reloadError: UpdateError?) -> String {
        let line = describe(status)
        guard let reloadError else { return line }
        return "Reload rejected (running the previous configuration): \(reloadError.message). \(line)"
    }

    static func describe(_ status: EngineStatus) -> String {
        if let downloading = status.apps.first(where: { $0.progress != nil }), let progress = downloading.progress {
            return "Downloading \(downloading.app) \(progress.version) (\(progress.total > 0 ? progress.bytes * 100 / progress.total : 0)%)"
        }
        if let error = status.lastError {
            return "Last check failed: \(error.message)"
        }
        let ready = status.apps.filter { $0.stagedVersion != nil }.count
        let failed = status.apps.filter { $0.state == .failed }.count
        var text = "Idle: \(status.apps.count) app\(status.apps.count == 1 ? "" : "s"), \(ready) update\(ready == 1 ? "" : "s") ready"
        if failed > 0 { text += ", \(failed) failed" }
        text += ", last check \(status.lastCheck.map(clockTime) ?? "never")"
        return text
    }

    static func clockTime(_ seconds: Int64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        localtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
    }
}
