extension Method {
    /// `subscribe {"app"}`: from now on the connection receives the app's events. The
    /// response comes first, then the replay of the app's state (`"replay": true`).
    ///
    /// It is the app's cold start when no other connection subscribes to the app: the
    /// daemon then checks it, as the seed's platform checks on every cold start.
    public struct Subscribe: AppMethod {
        /// The app's installed version and state.
        public typealias Result = SubscribeResult
        /// The method's name on the wire.
        public static let name = "subscribe"
        /// Every client that can connect: an app process needs no permission to hear about
        /// its updates, or to trigger its cold-start check.
        public static let access = MethodAccess.everyone
        /// `app`.
        public static let members = [appMember]

        /// The app id (`app`), such as `com.example.weather`.
        public var app: String

        /// Creates the params for the app with id `app`.
        public init(app: String) { self.app = app }
    }

    /// `unsubscribe {"app"}`: stops the app's events on this connection. Result: `{}`.
    public struct Unsubscribe: AppMethod {
        /// `{}`.
        public typealias Result = Empty
        /// The method's name on the wire.
        public static let name = "unsubscribe"
        /// Every client that can connect.
        public static let access = MethodAccess.everyone
        /// `app`.
        public static let members = [appMember]

        /// The app id (`app`), such as `com.example.weather`.
        public var app: String

        /// Creates the params for the app with id `app`.
        public init(app: String) { self.app = app }
    }
}

/// The result of `subscribe`: the app as of the replay that follows.
public struct SubscribeResult: Codable, Sendable, Equatable {
    /// The app id (`app`), such as `com.example.weather`.
    public var app: String
    /// The installed version; nil, and `null` on the wire, when not installed or a
    /// development install.
    public var version: String?
    /// One of `not-installed`, `development`, `unchecked`, `checking`, `up-to-date`,
    /// `downloading`, `ready`, `failed`.
    public var state: String

    /// Creates the result.
    /// - Parameters:
    ///   - app: The app id.
    ///   - version: The installed version, or nil.
    ///   - state: The app's state, such as `up-to-date`.
    public init(app: String, version: String?, state: String) {
        self.app = app
        self.version = version
        self.state = state
    }

    /// Encodes the result, writing `version` even when it is nil (as `null`).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(app, forKey: .app)
        try container.encode(version, forKey: .version)
        try container.encode(state, forKey: .state)
    }

    private enum CodingKeys: String, CodingKey { case app, version, state }
}
