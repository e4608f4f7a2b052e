extension Method {
    /// `applyUpdate {"app"}`: switches the app to its staged update, atomically.
    /// Subscribers receive `onUpdateApplied` before the response.
    public struct ApplyUpdate: AppMethod {
        public typealias Result = ApplyResultPayload
        public static let name = "applyUpdate"
        public static let access = MethodAccess.administratorsAndAppOwner
        public static let members = [appMember]

        public var app: String

        public init(app: String) { self.app = app }
    }

    /// `install {"app"}`: installs the repository's latest version of the app, or
    /// updates to it, and applies it; it also lifts a rollback's hold.
    public struct Install: AppMethod {
        public typealias Result = ApplyResultPayload
        public static let name = "install"
        public static let access = MethodAccess.administrators
        public static let mayTakeLong = true
        public static let members = [appMember]

        public var app: String

        public init(app: String) { self.app = app }
    }

    /// `rollback {"app"}`: goes back to the previous version, which is then held back
    /// until a newer one is published.
    public struct Rollback: AppMethod {
        public typealias Result = ApplyResultPayload
        public static let name = "rollback"
        public static let access = MethodAccess.administrators
        public static let members = [appMember]

        public var app: String

        public init(app: String) { self.app = app }
    }
}

/// The result of `applyUpdate`, `install` and `rollback`: the version now current and
/// the one before it.
public struct ApplyResultPayload: Codable, Sendable, Equatable {
    public var app: String
    public var version: String
    /// Null when nothing was installed before.
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
