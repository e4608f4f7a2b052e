#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import MiniupdateProtocol
import Synchronization

/// An update event of one app, as Swift code receives it.
///
/// Each case is one of the daemon's notifications (`onCheckForUpdate`,
/// `onDownloadProgress`, …) about the manager's app; versions are version strings such as
/// `1.1.0`.
public enum UpdateEvent: Sendable, Equatable {
    /// A check finished; `version` is the version on offer when `hasUpdate` is true.
    case checkForUpdate(hasUpdate: Bool, version: String?)
    /// `bytes` of the `total` bytes of `version` are downloaded, about four times a second
    /// at most. Only ``UpdateManager/events()`` delivers these; no callback does.
    case downloadProgress(version: String, bytes: Int64, total: Int64)
    /// `version` is downloaded, verified and staged: ``UpdateManager/applyUpdate()`` can
    /// switch to it.
    case updateReady(version: String)
    /// A check, download, verification or staging failed; `version` is nil when the check
    /// itself failed. `error.reason` is the stable code, such as `digest-mismatch`.
    case updateFailed(version: String?, error: ErrorPayload)
    /// The app now runs `version`; `previousVersion` is what it ran before, if anything.
    /// `simulated` is true after a simulated update, which changed nothing on disk.
    case updateApplied(version: String, previousVersion: String?, simulated: Bool)
}

/// The answer `onCheckForUpdate` callbacks receive, as in the seed API: `res.hasUpdate`.
public struct CheckForUpdateResponse: Sendable, Equatable {
    /// Whether the repository offers a newer version; its download then starts by itself.
    public var hasUpdate: Bool
    /// The version on offer; nil when ``hasUpdate`` is false.
    public var version: String?
}

/// What `onUpdateReady` callbacks receive: the update that ``UpdateManager/applyUpdate()``
/// would switch to.
public struct UpdateReadyInfo: Sendable, Equatable {
    /// The staged version, such as `1.1.0`.
    public var version: String
}

/// What `onUpdateFailed` callbacks receive.
public struct UpdateFailure: Sendable, Equatable {
    /// The version being fetched; nil when the check itself failed.
    public var version: String?
    /// The daemon's error: `code` (a number), `reason` (the stable string code, such as
    /// `repository-unreachable`) and `message` (for people).
    public var error: ErrorPayload
}

/// An update the app now runs: what ``UpdateManager/applyUpdate()`` returns and what the
/// `onRestart` hook receives.
public struct AppliedUpdate: Sendable, Equatable {
    /// The version the app now runs; for a simulated update, the made-up version.
    public var version: String
    /// The version the app ran before; nil when it had none (a first install, or over a
    /// development tree). After a rollback, the version rolled back from.
    public var previousVersion: String?
    /// True after a `simulate`d update: nothing changed on disk.
    public var simulated: Bool

    /// An applied update.
    public init(version: String, previousVersion: String?, simulated: Bool) {
        self.version = version
        self.previousVersion = previousVersion
        self.simulated = simulated
    }
}

/// The mini-app side of miniupdate, mirroring the seed's `wx.getUpdateManager()`:
///
/// ```swift
/// let updateManager = UpdateManager(app: "com.example.weather")
/// updateManager.onCheckForUpdate { res in print(res.hasUpdate) }
/// updateManager.onUpdateReady { _ in Task { try await updateManager.applyUpdate() } }
/// updateManager.onUpdateFailed { failure in print(failure.error.message) }
/// updateManager.onRestart { applied in /* reload the app's files */ }
/// try await updateManager.run()   // in the app's task group, for its whole life
/// ```
///
/// ``run()`` connects to the daemon, subscribes, and delivers events to the callbacks and
/// to ``events()``. It reconnects whenever the daemon restarts; the daemon replays the
/// app's state on every subscribe, and an event that repeats what was delivered last (the
/// same check result, the same ready version, the same failure) is not delivered again.
public final class UpdateManager: Sendable {
    /// The app's id, such as `com.example.weather`.
    public let app: String
    /// The daemon's socket.
    public let socketPath: String
    /// How long ``run()`` waits before connecting again after a failure or a disconnect.
    public let reconnectDelay: Duration

    private struct Callbacks {
        var checkForUpdate: [@Sendable (CheckForUpdateResponse) -> Void] = []
        var updateReady: [@Sendable (UpdateReadyInfo) -> Void] = []
        var updateFailed: [@Sendable (UpdateFailure) -> Void] = []
        var restart: (@Sendable (AppliedUpdate) -> Void)?
    }

    /// What was delivered last, to drop replayed duplicates after a reconnect.
    private struct Delivered {
        var check: CheckForUpdateResponse?
        var ready: String?
        var failure: UpdateFailure?
    }

    private let callbacks = Mutex(Callbacks())
    private let delivered = Mutex(Delivered())
    private let streams = Mutex<[UInt64: AsyncStream<UpdateEvent>.Continuation]>([:])
    private let nextStreamID = Atomic<UInt64>(0)
    private let client = Mutex<DaemonClient?>(nil)

    /// A manager for `app`; nothing connects until ``run()``.
    ///
    /// The socket is ``DaemonClient/defaultSocketPath`` unless given, and the reconnect
    /// delay half a second.
    public init(app: String, socketPath: String = DaemonClient.defaultSocketPath, reconnectDelay: Duration = .milliseconds(500)) {
        self.app = app
        self.socketPath = socketPath
        self.reconnectDelay = reconnectDelay
    }

    /// Adds a callback for every finished check of the app, as the seed's
    /// `onCheckForUpdate`: `res.hasUpdate` says whether a newer version is on offer (its
    /// download then starts by itself). A result equal to the last one announced is not
    /// announced again. Callbacks run in the order they were added, on the task running
    /// ``run()``: return quickly.
    public func onCheckForUpdate(_ callback: @escaping @Sendable (CheckForUpdateResponse) -> Void) {
        callbacks.withLock { $0.checkForUpdate.append(callback) }
    }

    /// Adds a callback for an update that is downloaded, verified and staged: ask the user,
    /// then call ``applyUpdate()``. A version is announced once, until an update is applied.
    public func onUpdateReady(_ callback: @escaping @Sendable (UpdateReadyInfo) -> Void) {
        callbacks.withLock { $0.updateReady.append(callback) }
    }

    /// Adds a callback for a failed check, download, verification or staging. A failure
    /// equal to the last one announced is dropped until an update is ready or applied.
    public func onUpdateFailed(_ callback: @escaping @Sendable (UpdateFailure) -> Void) {
        callbacks.withLock { $0.updateFailed.append(callback) }
    }

    /// Called after an update was applied (by this app or an admin): the app should load
    /// its new files. Without a hook, the process re-executes itself.
    ///
    /// There is one hook: a second call replaces the first. It is also called after a
    /// rollback and after a simulated update.
    public func onRestart(_ callback: @escaping @Sendable (AppliedUpdate) -> Void) {
        callbacks.withLock { $0.restart = callback }
    }

    /// Every event from now on, for Swift-native code.
    ///
    /// The stream gets what the callbacks get, after the same dropping of repeats, plus
    /// ``UpdateEvent/downloadProgress(version:bytes:total:)``. Events flow only while
    /// ``run()`` runs, and the stream ends when ``run()`` returns.
    public func events() -> AsyncStream<UpdateEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: UpdateEvent.self)
        let id = nextStreamID.wrappingAdd(1, ordering: .relaxed).newValue
        streams.withLock { $0[id] = continuation }
        continuation.onTermination = { [weak self] _ in
            _ = self?.streams.withLock { $0.removeValue(forKey: id) }
        }
        return stream
    }

    /// Applies the downloaded update: call it after ``onUpdateReady(_:)``.
    ///
    /// The restart hook (``onRestart(_:)``) runs too, when the daemon's `onUpdateApplied`
    /// arrives; without a hook the process re-executes itself, possibly before this call
    /// returns. Throws ``DaemonClientError/unreachable(path:reason:errno:)`` while ``run()``
    /// is not connected, and ``DaemonClientError/rpc(_:)`` when the daemon refuses: reason
    /// `no-update-ready` before an update is staged, `not-permitted` when the process's
    /// user may not apply updates of this app.
    @discardableResult
    public func applyUpdate() async throws -> AppliedUpdate {
        let result = try await withClient { try await $0.call(Method.ApplyUpdate(app: self.app)) }
        return AppliedUpdate(version: result.version, previousVersion: result.previousVersion, simulated: result.simulated ?? false)
    }

    /// Asks the daemon to check now; the outcome also arrives through the callbacks.
    ///
    /// Throws as ``applyUpdate()`` does; `not-permitted` unless the process runs as the
    /// app's owner, an admin or the daemon's user.
    @discardableResult
    public func checkForUpdate() async throws -> CheckForUpdateResponse {
        let result = try await withClient { try await $0.call(Method.CheckForUpdate(app: self.app)) }
        return CheckForUpdateResponse(hasUpdate: result.hasUpdate ?? false, version: result.version)
    }

    private func withClient<T>(_ body: (DaemonClient) async throws -> T) async throws -> T {
        guard let client = client.withLock({ $0 }) else {
            throw DaemonClientError.unreachable(path: socketPath, reason: "not connected (is run() running?)")
        }
        return try await body(client)
    }

    /// Connects, subscribes and delivers events until the calling task is cancelled,
    /// reconnecting after every disconnect.
    ///
    /// Run it for the app's whole life, in its own task: ``applyUpdate()`` and
    /// ``checkForUpdate()`` use its connection. Its subscribe is the app's cold start when
    /// no other process subscribes to the app, and the daemon then checks it; the daemon
    /// also replays the app's state, so an app that starts late still hears of a staged
    /// update. Failures to reach the daemon are not thrown: it
    /// tries again after ``reconnectDelay``. When it returns, every ``events()`` stream ends.
    public func run() async throws {
        while !Task.isCancelled {
            do {
                try await DaemonClient.withConnection(socketPath: socketPath) { client in
                    self.client.withLock { $0 = client }
                    defer { self.client.withLock { $0 = nil } }
                    _ = try await client.call(Method.Subscribe(app: self.app))
                    for await notification in client.notifications {
                        self.deliver(notification)
                    }
                }
            } catch is CancellationError {
                break
            } catch {
                // Unreachable or disconnected: the daemon may be restarting.
            }
            try? await Task.sleep(for: reconnectDelay)
        }
        streams.withLock { streams in
            for continuation in streams.values { continuation.finish() }
            streams.removeAll()
        }
    }

    private func deliver(_ notification: DaemonNotification) {
        guard let event = Self.decode(notification, app: app) else { return }
        // After a reconnect, the daemon replays the app's state and, the subscribe being a
        // cold start to it, checks again: both repeat what this manager may have delivered
        // already. An event that tells nothing new is dropped, replayed or not.
        let fresh = delivered.withLock { last -> Bool in
            switch event {
            case .checkForUpdate(let hasUpdate, let version):
                let response = CheckForUpdateResponse(hasUpdate: hasUpdate, version: version)
                if last.check == response { return false }
                last.check = response
            case .updateReady(let version):
                if last.ready == version { return false }
                last.ready = version
                last.failure = nil
            case .updateFailed(let version, let error):
                let failure = UpdateFailure(version: version, error: error)
                if last.failure == failure { return false }
                last.failure = failure
            case .updateApplied:
                last = Delivered(check: CheckForUpdateResponse(hasUpdate: false, version: nil))
            case .downloadProgress:
                break
            }
            return true
        }
        guard fresh else { return }
        for continuation in streams.withLock({ Array($0.values) }) { continuation.yield(event) }
        let callbacks = self.callbacks.withLock { $0 }
        switch event {
        case .checkForUpdate(let hasUpdate, let version):
            for callback in callbacks.checkForUpdate { callback(CheckForUpdateResponse(hasUpdate: hasUpdate, version: version)) }
        case .updateReady(let version):
            for callback in callbacks.updateReady { callback(UpdateReadyInfo(version: version)) }
        case .updateFailed(let version, let error):
            for callback in callbacks.updateFailed { callback(UpdateFailure(version: version, error: error)) }
        case .updateApplied(let version, let previous, let simulated):
            let applied = AppliedUpdate(version: version, previousVersion: previous, simulated: simulated)
            if let restart = callbacks.restart {
                restart(applied)
            } else {
                Self.reexecute()
            }
        case .downloadProgress:
            break
        }
    }

    /// The SDK's event for `notification`, if it is about `app`.
    static func decode(_ notification: DaemonNotification, app: String) -> UpdateEvent? {
        // Unknown notifications are ignored, as the protocol asks.
        guard let event = notification.event, event.app == app else { return nil }
        switch event {
        case .checkForUpdate(let params):
            return .checkForUpdate(hasUpdate: params.hasUpdate, version: params.version)
        case .downloadProgress(let params):
            return .downloadProgress(version: params.version, bytes: params.bytes, total: params.total)
        case .updateReady(let params):
            return .updateReady(version: params.version)
        case .updateFailed(let params):
            return .updateFailed(version: params.version, error: params.error)
        case .updateApplied(let params):
            return .updateApplied(version: params.version, previousVersion: params.previousVersion, simulated: params.simulated ?? false)
        case .daemonStopping:
            return nil
        }
    }

    /// The default restart: replace this process with a fresh copy of itself.
    static func reexecute() {
        var arguments = CommandLine.arguments.map { strdup($0) }
        arguments.append(nil)
        execv("/proc/self/exe", &arguments)
    }
}
