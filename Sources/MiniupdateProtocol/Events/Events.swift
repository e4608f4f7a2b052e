/// `onCheckForUpdate`: a check of the app finished. The seed's `res.hasUpdate`.
public struct CheckForUpdateEvent: RPCEvent {
    /// The notification's method on the wire.
    public static let name = "onCheckForUpdate"
    /// The app id (`app`), such as `com.example.weather`.
    public var app: String
    /// Whether the repository offers a version newer than the installed one (`hasUpdate`);
    /// when true, the download starts in the background.
    public var hasUpdate: Bool
    /// The version on offer (`version`); nil, and absent on the wire, when `hasUpdate` is false.
    public var version: String?
    /// True when the daemon re-sends the app's state right after `subscribe`.
    public var replay: Bool?

    /// Creates the event's params.
    /// - Parameters:
    ///   - app: The app id.
    ///   - hasUpdate: Whether a newer version is on offer.
    ///   - version: The version on offer, or nil when there is none.
    ///   - replay: `true` for the replay after a `subscribe`; nil (absent) for a live event.
    public init(app: String, hasUpdate: Bool, version: String?, replay: Bool? = nil) {
        self.app = app
        self.hasUpdate = hasUpdate
        self.version = version
        self.replay = replay
    }
}

/// `onDownloadProgress`: bytes of `version` downloaded so far, at most about four times
/// a second per app.
public struct DownloadProgressEvent: RPCEvent {
    /// The notification's method on the wire.
    public static let name = "onDownloadProgress"
    /// The app id (`app`), such as `com.example.weather`.
    public var app: String
    /// The version being downloaded (`version`).
    public var version: String
    /// The bytes of the package downloaded so far (`bytes`), a resumed download's earlier
    /// part included; equal to ``total`` when the download is complete.
    public var bytes: Int64
    /// The package's size in bytes (`total`), as the repository's index declares it.
    public var total: Int64

    /// Creates the event's params.
    /// - Parameters:
    ///   - app: The app id.
    ///   - version: The version being downloaded.
    ///   - bytes: The bytes downloaded so far.
    ///   - total: The package's size in bytes.
    public init(app: String, version: String, bytes: Int64, total: Int64) {
        self.app = app
        self.version = version
        self.bytes = bytes
        self.total = total
    }
}

/// `onUpdateReady`: `version` is downloaded, verified and staged; applying it is instant.
public struct UpdateReadyEvent: RPCEvent {
    /// The notification's method on the wire.
    public static let name = "onUpdateReady"
    /// The app id (`app`), such as `com.example.weather`.
    public var app: String
    /// The staged version (`version`), which `applyUpdate` switches to.
    public var version: String
    /// True when the daemon re-sends the app's state right after `subscribe`; nil (absent)
    /// for a live event.
    public var replay: Bool?

    /// Creates the event's params.
    /// - Parameters:
    ///   - app: The app id.
    ///   - version: The staged version.
    ///   - replay: `true` for the replay after a `subscribe`; nil (absent) for a live event.
    public init(app: String, version: String, replay: Bool? = nil) {
        self.app = app
        self.version = version
        self.replay = replay
    }
}

/// `onUpdateFailed`: a check, a download, verification or staging failed. `version` is
/// absent when the check itself failed.
public struct UpdateFailedEvent: RPCEvent {
    /// The notification's method on the wire.
    public static let name = "onUpdateFailed"
    /// The app id (`app`), such as `com.example.weather`.
    public var app: String
    /// The version whose download, verification or staging failed (`version`); nil, and
    /// absent on the wire, when the check itself failed.
    public var version: String?
    /// What went wrong (`error`): the numeric code, the stable reason such as
    /// `digest-mismatch` (`simulated` for a ``Method/Simulate``), and a message for people.
    public var error: ErrorPayload
    /// True when the daemon re-sends the app's last failure right after `subscribe`; nil
    /// (absent) for a live event.
    public var replay: Bool?

    /// Creates the event's params.
    /// - Parameters:
    ///   - app: The app id.
    ///   - version: The version that failed, or nil when the check failed.
    ///   - error: What went wrong.
    ///   - replay: `true` for the replay after a `subscribe`; nil (absent) for a live event.
    public init(app: String, version: String?, error: ErrorPayload, replay: Bool? = nil) {
        self.app = app
        self.version = version
        self.error = error
        self.replay = replay
    }
}

/// `onUpdateApplied`: the app's `current` now points at `version`, by an apply, an
/// install or a rollback; the app should load its new files.
public struct UpdateAppliedEvent: RPCEvent {
    /// The notification's method on the wire.
    public static let name = "onUpdateApplied"
    /// The app id (`app`), such as `com.example.weather`.
    public var app: String
    /// The version now current (`version`).
    public var version: String
    /// The version that was current before (`previousVersion`): for a rollback, the one
    /// rolled back from. Always on the wire, `null` when nothing was installed before.
    public var previousVersion: String?
    /// True when this apply ends a `simulate`: nothing changed on disk. Nil (absent) for a
    /// real apply.
    public var simulated: Bool?

    /// Creates the event's params.
    /// - Parameters:
    ///   - app: The app id.
    ///   - version: The version now current.
    ///   - previousVersion: The version current before, or nil when there was none.
    ///   - simulated: `true` for the apply of a simulated update; nil (absent) otherwise.
    public init(app: String, version: String, previousVersion: String?, simulated: Bool? = nil) {
        self.app = app
        self.version = version
        self.previousVersion = previousVersion
        self.simulated = simulated
    }

    /// Encodes the params, writing `previousVersion` even when it is nil (as `null`) and
    /// leaving `simulated` out when it is nil.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(app, forKey: .app)
        try container.encode(version, forKey: .version)
        // Always present, null when nothing was installed before, as the events table says.
        try container.encode(previousVersion, forKey: .previousVersion)
        try container.encodeIfPresent(simulated, forKey: .simulated)
    }

    private enum CodingKeys: String, CodingKey { case app, version, previousVersion, simulated }
}

/// `onDaemonStopping {}`: the daemon is shutting down; the connection closes next.
public struct DaemonStoppingEvent: RPCEvent {
    /// The notification's method on the wire.
    public static let name = "onDaemonStopping"

    /// Creates the event's params, which are empty.
    public init() {}
}
