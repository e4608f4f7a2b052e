extension Method {
    /// `applyUpdate {"app"}`: switches the app to its staged update, atomically.
    /// Subscribers receive `onUpdateApplied` before the response.
    public struct ApplyUpdate: AppMethod {
        /// The version now current and the one before it.
        public typealias Result = ApplyResultPayload
        /// The method's name on the wire.
        public static let name = "applyUpdate"
        /// Administrators, and the app's owner for its own app, so the app's process can
        /// apply the update its user accepted.
        public static let access = MethodAccess.administratorsAndAppOwner
        /// `app`.
        public static let members = [appMember]

        /// The app id (`app`), such as `com.example.weather`.
        public var app: String

        /// Creates the params for the app with id `app`.
        public init(app: String) { self.app = app }
    }

    /// `install {"app"}`: installs the repository's latest version of the app, or
    /// updates to it, and applies it; it also lifts a rollback's hold.
    public struct Install: AppMethod {
        /// The version now current and the one before it.
        public typealias Result = ApplyResultPayload
        /// The method's name on the wire.
        public static let name = "install"
        /// Administrators only.
        public static let access = MethodAccess.administrators
        /// True: it fetches the index and downloads the package, so it runs beside the
        /// connection's later requests.
        public static let mayTakeLong = true
        /// `app`.
        public static let members = [appMember]

        /// The app id (`app`), such as `com.example.weather`.
        public var app: String

        /// Creates the params for the app with id `app`.
        public init(app: String) { self.app = app }
    }

    /// `rollback {"app"}`: goes back to the previous version, which is then held back
    /// until a newer one is published.
    public struct Rollback: AppMethod {
        /// The version now current (the one rolled back to) and the one rolled back from.
        public typealias Result = ApplyResultPayload
        /// The method's name on the wire.
        public static let name = "rollback"
        /// Administrators only.
        public static let access = MethodAccess.administrators
        /// `app`.
        public static let members = [appMember]

        /// The app id (`app`), such as `com.example.weather`.
        public var app: String

        /// Creates the params for the app with id `app`.
        public init(app: String) { self.app = app }
    }
}

/// The result of `applyUpdate`, `install` and `rollback`: the version now current and
/// the one before it.
public struct ApplyResultPayload: Codable, Sendable, Equatable {
    /// The app id (`app`), such as `com.example.weather`.
    public var app: String
    /// The version now current (`version`).
    public var version: String
    /// The version current before (`previousVersion`): for a rollback, the one rolled back
    /// from. Always on the wire, `null` when nothing was installed before.
    public var previousVersion: String?
    /// True after a `simulate`d update: nothing changed on disk. Nil (absent) for a real
    /// apply.
    public var simulated: Bool?

    /// Creates the result.
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

    /// Encodes the result, writing `previousVersion` even when it is nil (as `null`) and
    /// leaving `simulated` out when it is nil.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(app, forKey: .app)
        try container.encode(version, forKey: .version)
        try container.encode(previousVersion, forKey: .previousVersion)
        try container.encodeIfPresent(simulated, forKey: .simulated)
    }

    private enum CodingKeys: String, CodingKey { case app, version, previousVersion, simulated }
}
