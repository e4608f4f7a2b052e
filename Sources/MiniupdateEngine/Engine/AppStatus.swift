import MiniupdateCore
import MiniupdateRepository

/// Where an app stands, as status output and the protocol show it.
public enum AppState: String, Sendable, Codable {
    /// Installed without a version (a development or test build): never checked.
    case development
    /// Known from the repository only; `install` brings it.
    case notInstalled = "not-installed"
    /// Installed, and no check has finished since the engine started.
    case unchecked
    case checking
    /// The last check found nothing newer.
    case upToDate = "up-to-date"
    case downloading
    /// A newer version is staged and can be applied.
    case ready
    /// The last check or download failed; see ``AppStatus/lastError``.
    case failed
}

/// Download progress of one app.
public struct DownloadProgress: Sendable, Equatable {
    public var version: Version
    public var bytes: Int64
    public var total: Int64
}

/// The outcome of a check since the engine started, kept to replay it to late listeners.
public struct CheckResult: Sendable, Equatable {
    public var hasUpdate: Bool
    public var version: Version?

    public init(hasUpdate: Bool, version: Version?) {
        self.hasUpdate = hasUpdate
        self.version = version
    }
}

public struct AppStatus: Sendable, Equatable {
    public var app: AppID
    public var state: AppState
    /// The version `current` points at; nil when not installed or a development install.
    public var installedVersion: Version?
    public var isDevelopment: Bool
    /// The newer version the repository offers, if any.
    public var availableVersion: Version?
    /// The version staged and ready to apply, if any.
    public var stagedVersion: Version?
    /// The version a rollback would return to, if any.
    public var previousVersion: Version?
    /// A version an admin rolled back from; it is not offered again.
    public var heldBackVersion: Version?
    /// When the app was last checked, in seconds since the epoch.
    public var lastCheck: Int64?
    /// The outcome of the last check since the engine started.
    public var lastCheckResult: CheckResult?
    public var lastError: UpdateError?
    public var progress: DownloadProgress?
}

/// The engine as a whole.
public struct EngineStatus: Sendable, Equatable {
    /// ``UpdateEngine/statusGeneration`` when this status was taken.
    public var generation: UInt64
    public var repository: String
    /// The serial of the last accepted index.
    public var serial: UInt64?
    public var indexExpires: Int64?
    /// When the repository was last fetched (or found unchanged), in seconds since the epoch.
    public var lastCheck: Int64?
    public var lastError: UpdateError?
    public var apps: [AppStatus]
}

/// What `applyUpdate`, `install` and `rollback` did.
public struct ApplyResult: Sendable, Equatable {
    public var app: AppID
    public var version: Version
    public var previousVersion: Version?
    /// The apply of a ``UpdateEngine/simulate(_:_:)``d update: nothing changed on disk.
    public var simulated: Bool

    public init(app: AppID, version: Version, previousVersion: Version?, simulated: Bool = false) {
        self.app = app
        self.version = version
        self.previousVersion = previousVersion
        self.simulated = simulated
    }
}
