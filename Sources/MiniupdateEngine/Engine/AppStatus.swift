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
    /// A check is fetching the index.
    case checking
    /// The last check found nothing newer.
    case upToDate = "up-to-date"
    /// A newer version is being downloaded, verified and staged, or waits for a download slot.
    case downloading
    /// A newer version is staged and can be applied.
    case ready
    /// The last download, verification or staging failed; see ``AppStatus/lastError``.
    /// A failed index fetch shows in ``EngineStatus/lastError`` instead.
    case failed
}

/// Download progress of one app.
public struct DownloadProgress: Sendable, Equatable {
    /// The version being downloaded.
    public var version: Version
    /// Bytes of the package on disk so far, a resumed download's earlier bytes included.
    public var bytes: Int64
    /// The package's size in bytes, as the index declares it.
    public var total: Int64
}

/// The outcome of a check since the engine started, kept to replay it to late listeners.
public struct CheckResult: Sendable, Equatable {
    /// Whether the repository offers a version newer than the installed one (and than a
    /// version held back by a rollback).
    public var hasUpdate: Bool
    /// The version on offer; nil when ``hasUpdate`` is false.
    public var version: Version?

    /// A check result.
    public init(hasUpdate: Bool, version: Version?) {
        self.hasUpdate = hasUpdate
        self.version = version
    }
}

/// One installed app, as ``UpdateEngine/status(of:)`` and ``UpdateEngine/status()``
/// report it.
public struct AppStatus: Sendable, Equatable {
    /// The app.
    public var app: AppID
    /// Where the app stands.
    public var state: AppState
    /// The version `current` points at; nil when not installed or a development install.
    public var installedVersion: Version?
    /// Whether `current` points at a developer's tree
    /// (``UpdateEngine/installDevelopment(_:from:)``); such an app is never checked.
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
    /// Why the app's last download, verification or staging failed; nil once a download
    /// succeeds, an update is applied, or a check finds nothing to fetch.
    public var lastError: UpdateError?
    /// The running download's progress; nil when none runs.
    public var progress: DownloadProgress?
}

/// The engine as a whole.
public struct EngineStatus: Sendable, Equatable {
    /// ``UpdateEngine/statusGeneration`` when this status was taken.
    public var generation: UInt64
    /// Where the repository is: its URL, or empty when none is configured.
    public var repository: String
    /// The serial of the last accepted index.
    public var serial: UInt64?
    /// When the index in use expires, in seconds since the Unix epoch; nil when there is none.
    public var indexExpires: Int64?
    /// When the repository was last fetched (or found unchanged), in seconds since the epoch.
    public var lastCheck: Int64?
    /// Why the last index fetch failed; nil once one succeeds.
    public var lastError: UpdateError?
    /// Every installed app, development installs included, in id order.
    public var apps: [AppStatus]
}

/// What `applyUpdate`, `install` and `rollback` did.
public struct ApplyResult: Sendable, Equatable {
    /// The app.
    public var app: AppID
    /// The version `current` now points at.
    public var version: Version
    /// What `current` pointed at before; after a rollback, the version rolled back from.
    /// Nil for a first install, and for an ``UpdateEngine/install(_:)`` that found the
    /// latest version already installed.
    public var previousVersion: Version?
    /// The apply of a ``UpdateEngine/simulate(_:_:)``d update: nothing changed on disk.
    public var simulated: Bool

    /// A result; ``simulated`` is false unless given.
    public init(app: AppID, version: Version, previousVersion: Version?, simulated: Bool = false) {
        self.app = app
        self.version = version
        self.previousVersion = previousVersion
        self.simulated = simulated
    }
}
