import MiniupdateCore

/// An error as events and status carry it: the numeric code, the stable reason, and a
/// message for people.
public struct ErrorPayload: Codable, Sendable, Equatable {
    public var code: Int
    public var reason: String
    public var message: String

    public init(code: Int, reason: String, message: String) {
        self.code = code
        self.reason = reason
        self.message = message
    }

    /// The payload of `error`.
    public init(_ error: UpdateError) {
        self.init(code: error.code.number, reason: error.code.rawValue, message: error.message)
    }

    /// The error it describes; a reason this version does not know keeps its name and number.
    public var updateError: UpdateError {
        UpdateError(UpdateError.Code(rawValue: reason, number: code), message)
    }
}

/// How far a download has come.
public struct ProgressPayload: Codable, Sendable, Equatable {
    public var bytes: Int64
    public var total: Int64
    public var version: String

    public init(bytes: Int64, total: Int64, version: String) {
        self.bytes = bytes
        self.total = total
        self.version = version
    }
}

/// One app in the `status` result.
public struct AppStatusPayload: Codable, Sendable, Equatable {
    public var app: String
    public var state: String
    public var installedVersion: String?
    public var development: Bool
    public var availableVersion: String?
    public var stagedVersion: String?
    public var previousVersion: String?
    /// A version an admin rolled back from: it is not offered again until a newer one is
    /// published. Absent from daemons before 0.2.
    public var heldBackVersion: String?
    /// Seconds since the Unix epoch.
    public var lastCheck: Int64?
    public var lastError: ErrorPayload?
    public var progress: ProgressPayload?

    public init(app: String, state: String, installedVersion: String?, development: Bool, availableVersion: String?, stagedVersion: String?, previousVersion: String?, heldBackVersion: String? = nil, lastCheck: Int64?, lastError: ErrorPayload?, progress: ProgressPayload?) {
        self.app = app
        self.state = state
        self.installedVersion = installedVersion
        self.development = development
        self.availableVersion = availableVersion
        self.stagedVersion = stagedVersion
        self.previousVersion = previousVersion
        self.heldBackVersion = heldBackVersion
        self.lastCheck = lastCheck
        self.lastError = lastError
        self.progress = progress
    }
}

/// The daemon in the `status` result.
public struct DaemonStatusPayload: Codable, Sendable, Equatable {
    public struct Counts: Codable, Sendable, Equatable {
        public var apps: Int
        public var updatesReady: Int
        public var downloading: Int
        public var failed: Int
        public var clients: Int

        public init(apps: Int, updatesReady: Int, downloading: Int, failed: Int, clients: Int) {
            self.apps = apps
            self.updatesReady = updatesReady
            self.downloading = downloading
            self.failed = failed
            self.clients = clients
        }
    }

    public var version: String
    public var repository: String
    public var serial: UInt64?
    public var indexExpires: Int64?
    public var lastCheck: Int64?
    public var lastError: ErrorPayload?
    /// Why the last reload (SIGHUP, `systemctl reload`) was rejected; nil when it was
    /// accepted, or none was asked for. The daemon then runs with its previous
    /// configuration. Absent from daemons before 0.2.
    public var reloadError: ErrorPayload?
    public var counts: Counts

    public init(version: String, repository: String, serial: UInt64?, indexExpires: Int64?, lastCheck: Int64?, lastError: ErrorPayload?, reloadError: ErrorPayload? = nil, counts: Counts) {
        self.version = version
        self.repository = repository
        self.serial = serial
        self.indexExpires = indexExpires
        self.lastCheck = lastCheck
        self.lastError = lastError
        self.reloadError = reloadError
        self.counts = counts
    }
}

/// The result of `status`.
public struct StatusResult: Codable, Sendable, Equatable {
    public var daemon: DaemonStatusPayload
    public var apps: [AppStatusPayload]

    public init(daemon: DaemonStatusPayload, apps: [AppStatusPayload]) {
        self.daemon = daemon
        self.apps = apps
    }
}
