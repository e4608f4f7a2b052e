import MiniupdateCore

/// An error as events and status carry it: the numeric code, the stable reason, and a
/// message for people.
public struct ErrorPayload: Codable, Sendable, Equatable {
    /// The numeric code (`code`), such as 2012; see the error table in `docs/protocol.md`.
    public var code: Int
    /// The stable string code (`reason`), such as `digest-mismatch`: what clients should
    /// act on.
    public var reason: String
    /// What went wrong, in words for people (`message`).
    public var message: String

    /// Creates the payload from its members.
    /// - Parameters:
    ///   - code: The numeric code.
    ///   - reason: The stable string code.
    ///   - message: The words for people.
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
    /// The bytes of the package downloaded so far (`bytes`).
    public var bytes: Int64
    /// The package's size in bytes (`total`), as the repository's index declares it.
    public var total: Int64
    /// The version being downloaded (`version`).
    public var version: String

    /// Creates the payload.
    /// - Parameters:
    ///   - bytes: The bytes downloaded so far.
    ///   - total: The package's size in bytes.
    ///   - version: The version being downloaded.
    public init(bytes: Int64, total: Int64, version: String) {
        self.bytes = bytes
        self.total = total
        self.version = version
    }
}

/// One app in the `status` result.
public struct AppStatusPayload: Codable, Sendable, Equatable {
    /// The app id (`app`), such as `com.example.weather`.
    public var app: String
    /// Where the app stands (`state`): one of `development`, `unchecked`, `checking`,
    /// `up-to-date`, `downloading`, `ready`, `failed` (and `not-installed`, which `status`
    /// does not list).
    public var state: String
    /// The version the app's `current` points at (`installedVersion`); nil for a
    /// development install.
    public var installedVersion: String?
    /// Whether this is a development install (`development`): installed without a version,
    /// and never checked.
    public var development: Bool
    /// The newer version the repository offers (`availableVersion`), as the last check
    /// since the daemon started saw it; nil when none is offered or no check has finished.
    public var availableVersion: String?
    /// The version downloaded, verified and staged (`stagedVersion`), which `applyUpdate`
    /// switches to; nil when no update is ready.
    public var stagedVersion: String?
    /// The version `rollback` would go back to (`previousVersion`); nil when none is kept.
    public var previousVersion: String?
    /// A version an admin rolled back from: it is not offered again until a newer one is
    /// published. Absent from daemons before 0.2.
    public var heldBackVersion: String?
    /// When a check of the app last succeeded (`lastCheck`), in seconds since the Unix
    /// epoch; nil when none has.
    public var lastCheck: Int64?
    /// Why the app's last download, verification or staging failed (`lastError`); nil when
    /// none did, or since cleared by a successful download, an apply, or a check that found
    /// nothing on offer.
    public var lastError: ErrorPayload?
    /// How far the download in progress has come (`progress`); nil when nothing is being
    /// downloaded.
    public var progress: ProgressPayload?

    /// Creates one app's status. Optional members that are nil are left out on the wire.
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
    /// Totals over the apps in the result, and the connected clients (`counts`).
    public struct Counts: Codable, Sendable, Equatable {
        /// The installed apps, development installs included (`apps`).
        public var apps: Int
        /// The apps with an update staged and ready to apply (`updatesReady`).
        public var updatesReady: Int
        /// The apps in the `downloading` state (`downloading`).
        public var downloading: Int
        /// The apps in the `failed` state (`failed`).
        public var failed: Int
        /// The connections open to the daemon (`clients`), the one asking included.
        public var clients: Int

        /// Creates the counts.
        /// - Parameters:
        ///   - apps: The installed apps.
        ///   - updatesReady: The apps with an update staged.
        ///   - downloading: The apps downloading.
        ///   - failed: The apps whose last attempt failed.
        ///   - clients: The connections open to the daemon.
        public init(apps: Int, updatesReady: Int, downloading: Int, failed: Int, clients: Int) {
            self.apps = apps
            self.updatesReady = updatesReady
            self.downloading = downloading
            self.failed = failed
            self.clients = clients
        }
    }

    /// The daemon's own version (`version`), such as `0.1.0`.
    public var version: String
    /// The repository's URL (`repository`), such as `https://updates.example.com/stable`.
    public var repository: String
    /// The serial of the last index accepted (`serial`); nil before any was.
    public var serial: UInt64?
    /// When the current index expires (`indexExpires`), in seconds since the Unix epoch;
    /// nil when there is no index.
    public var indexExpires: Int64?
    /// When the repository was last fetched, or found unchanged (`lastCheck`), in seconds
    /// since the Unix epoch; nil when it never was.
    public var lastCheck: Int64?
    /// Why the last fetch of the repository's index failed (`lastError`); nil when the last
    /// fetch succeeded, or none has failed.
    public var lastError: ErrorPayload?
    /// Why the last reload (SIGHUP, `systemctl reload`) was rejected; nil when it was
    /// accepted, or none was asked for. The daemon then runs with its previous
    /// configuration. Absent from daemons before 0.2.
    public var reloadError: ErrorPayload?
    /// Totals over the apps and the clients (`counts`).
    public var counts: Counts

    /// Creates the daemon's status. Optional members that are nil are left out on the wire.
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
    /// The daemon and its repository (`daemon`).
    public var daemon: DaemonStatusPayload
    /// Every installed app, development installs included, in app id order (`apps`).
    public var apps: [AppStatusPayload]

    /// Creates the result.
    /// - Parameters:
    ///   - daemon: The daemon and its repository.
    ///   - apps: Every installed app.
    public init(daemon: DaemonStatusPayload, apps: [AppStatusPayload]) {
        self.daemon = daemon
        self.apps = apps
    }
}
