/// `onCheckForUpdate`: a check of the app finished. The seed's `res.hasUpdate`.
public struct CheckForUpdateEvent: RPCEvent {
    public static let name = "onCheckForUpdate"
    public var app: String
    public var hasUpdate: Bool
    public var version: String?
    /// True when the daemon re-sends the app's state right after `subscribe`.
    public var replay: Bool?

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
    public static let name = "onDownloadProgress"
    public var app: String
    public var version: String
    public var bytes: Int64
    public var total: Int64

    public init(app: String, version: String, bytes: Int64, total: Int64) {
        self.app = app
        self.version = version
        self.bytes = bytes
        self.total = total
    }
}

/// `onUpdateReady`: `version` is downloaded, verified and staged; applying it is instant.
public struct UpdateReadyEvent: RPCEvent {
    public static let name = "onUpdateReady"
    public var app: String
    public var version: String
    public var replay: Bool?

    public init(app: String, version: String, replay: Bool? = nil) {
        self.app = app
        self.version = version
        self.replay = replay
    }
}

/// `onUpdateFailed`: a check, a download, verification or staging failed. `version` is
/// absent when the check itself failed.
public struct UpdateFailedEvent: RPCEvent {
    public static let name = "onUpdateFailed"
    public var app: String
    public var version: String?
    public var error: ErrorPayload
    public var replay: Bool?

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
    public static let name = "onUpdateApplied"
    public var app: String
    public var version: String
    public var previousVersion: String?
    public var simulated: Bool?

    public init(app: String, version: String, previousVersion: String?, simulated: Bool? = nil) {
        self.app = app
        self.version = version
        self.previousVersion = previousVersion
        self.simulated = simulated
    }

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
    public static let name = "onDaemonStopping"

    public init() {}
}
