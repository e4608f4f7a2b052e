/// Method and notification names of protocol v1.
public enum Method {
    public static let subscribe = "subscribe"
    public static let unsubscribe = "unsubscribe"
    public static let checkForUpdate = "checkForUpdate"
    public static let applyUpdate = "applyUpdate"
    public static let install = "install"
    public static let rollback = "rollback"
    public static let status = "status"
    public static let simulate = "simulate"
}

public enum Notification {
    public static let onCheckForUpdate = "onCheckForUpdate"
    public static let onDownloadProgress = "onDownloadProgress"
    public static let onUpdateReady = "onUpdateReady"
    public static let onUpdateFailed = "onUpdateFailed"
    public static let onUpdateApplied = "onUpdateApplied"
    /// Sent once to every client when the daemon stops; the connection closes after it.
    public static let onDaemonStopping = "onDaemonStopping"
}

public struct AppParams: Codable, Sendable, Equatable {
    public var app: String
    public init(app: String) { self.app = app }
}

/// `checkForUpdate` params: one app, or every installed app when `app` is absent.
public struct CheckParams: Codable, Sendable, Equatable {
    public var app: String?
    public init(app: String? = nil) { self.app = app }
}

public struct SimulateParams: Codable, Sendable, Equatable {
    public enum Outcome: String, Codable, Sendable, CaseIterable {
        case ready, failed
        case noUpdate = "no-update"
    }

    public var app: String
    public var outcome: Outcome

    public init(app: String, outcome: Outcome) {
        self.app = app
        self.outcome = outcome
    }
}

public struct SubscribeResult: Codable, Sendable, Equatable {
    public var app: String
    public var version: String?
    public var state: String

    public init(app: String, version: String?, state: String) {
        self.app = app
        self.version = version
        self.state = state
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(app, forKey: .app)
        try container.encode(version, forKey: .version)
        try container.encode(state, forKey: .state)
    }

    private enum CodingKeys: String, CodingKey { case app, version, state }
}

public struct CheckResultPayload: Codable, Sendable, Equatable {
    public var app: String
    public var hasUpdate: Bool
    public var version: String?

    public init(app: String, hasUpdate: Bool, version: String?) {
        self.app = app
        self.hasUpdate = hasUpdate
        self.version = version
    }
}

/// The result of `checkForUpdate`: the app checked, or every app when none was named.
public struct CheckForUpdateResult: Codable, Sendable, Equatable {
    public var app: String?
    public var hasUpdate: Bool?
    public var version: String?
    public var results: [CheckResultPayload]?

    public init(single: CheckResultPayload) {
        app = single.app
        hasUpdate = single.hasUpdate
        version = single.version
    }

    public init(all: [CheckResultPayload]) { results = all }
}

/// The result of `applyUpdate`, `install` and `rollback`.
public struct ApplyResultPayload: Codable, Sendable, Equatable {
    public var app: String
    public var version: String
    public var previousVersion: String?
    /// True after a `simulate`d update: nothing changed on disk.
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
        try container.encode(previousVersion, forKey: .previousVersion)
        try container.encodeIfPresent(simulated, forKey: .simulated)
    }

    private enum CodingKeys: String, CodingKey { case app, version, previousVersion, simulated }
}

public struct ErrorPayload: Codable, Sendable, Equatable {
    public var code: Int
    public var reason: String
    public var message: String

    public init(code: Int, reason: String, message: String) {
        self.code = code
        self.reason = reason
        self.message = message
    }
}

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

public struct AppStatusPayload: Codable, Sendable, Equatable {
    public var app: String
    public var state: String
    public var installedVersion: String?
    public var development: Bool
    public var availableVersion: String?
    public var stagedVersion: String?
    public var previousVersion: String?
    /// Seconds since the Unix epoch.
    public var lastCheck: Int64?
    public var lastError: ErrorPayload?
    public var progress: ProgressPayload?

    public init(app: String, state: String, installedVersion: String?, development: Bool, availableVersion: String?, stagedVersion: String?, previousVersion: String?, lastCheck: Int64?, lastError: ErrorPayload?, progress: ProgressPayload?) {
        self.app = app
        self.state = state
        self.installedVersion = installedVersion
        self.development = development
        self.availableVersion = availableVersion
        self.stagedVersion = stagedVersion
        self.previousVersion = previousVersion
        self.lastCheck = lastCheck
        self.lastError = lastError
        self.progress = progress
    }
}

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
    public var counts: Counts

    public init(version: String, repository: String, serial: UInt64?, indexExpires: Int64?, lastCheck: Int64?, lastError: ErrorPayload?, counts: Counts) {
        self.version = version
        self.repository = repository
        self.serial = serial
        self.indexExpires = indexExpires
        self.lastCheck = lastCheck
        self.lastError = lastError
        self.counts = counts
    }
}

public struct StatusResult: Codable, Sendable, Equatable {
    public var daemon: DaemonStatusPayload
    public var apps: [AppStatusPayload]

    public init(daemon: DaemonStatusPayload, apps: [AppStatusPayload]) {
        self.daemon = daemon
        self.apps = apps
    }
}

// MARK: Events

public struct CheckForUpdateEvent: Codable, Sendable, Equatable {
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

public struct DownloadProgressEvent: Codable, Sendable, Equatable {
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

public struct UpdateReadyEvent: Codable, Sendable, Equatable {
    public var app: String
    public var version: String
    public var replay: Bool?

    public init(app: String, version: String, replay: Bool? = nil) {
        self.app = app
        self.version = version
        self.replay = replay
    }
}

public struct UpdateFailedEvent: Codable, Sendable, Equatable {
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

public struct UpdateAppliedEvent: Codable, Sendable, Equatable {
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
}
