extension Method {
    /// `subscribe {"app"}`: from now on the connection receives the app's events. The
    /// response comes first, then the replay of the app's state (`"replay": true`).
    ///
    /// It is the app's cold start when no other connection subscribes to the app: the
    /// daemon then checks it, as the seed's platform checks on every cold start.
    public struct Subscribe: AppMethod {
        public typealias Result = SubscribeResult
        public static let name = "subscribe"
        public static let access = MethodAccess.everyone
        public static let members = [appMember]

        public var app: String

        public init(app: String) { self.app = app }
    }

    /// `unsubscribe {"app"}`: stops the app's events on this connection. Result: `{}`.
    public struct Unsubscribe: AppMethod {
        public typealias Result = Empty
        public static let name = "unsubscribe"
        public static let access = MethodAccess.everyone
        public static let members = [appMember]

        public var app: String

        public init(app: String) { self.app = app }
    }
}

/// The result of `subscribe`: the app as of the replay that follows.
public struct SubscribeResult: Codable, Sendable, Equatable {
    public var app: String
    /// The installed version; nil when not installed or a development install.
    public var version: String?
    /// One of `not-installed`, `development`, `unchecked`, `checking`, `up-to-date`,
    /// `downloading`, `ready`, `failed`.
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
