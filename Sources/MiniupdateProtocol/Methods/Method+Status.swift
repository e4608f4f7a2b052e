extension Method {
    /// `status {}`: the daemon and every installed app. Params may be absent.
    public struct Status: RPCMethod {
        /// The daemon's and every installed app's status.
        public typealias Result = StatusResult
        /// The method's name on the wire.
        public static let name = "status"
        /// Every client that can connect.
        public static let access = MethodAccess.everyone
        /// The params are empty, so a request without them means the same as `{}`.
        public static let paramsWhenAbsent: Self? = Self()
        /// None: `status` has no members, and its params are not read.
        public static let members: [(name: String, accepts: String)] = []

        /// Nil: `status` is about no one app.
        public var namedApp: String? { nil }

        /// Creates the (empty) params.
        public init() {}
    }
}
