extension Method {
    /// `status {}`: the daemon and every installed app. Params may be absent.
    public struct Status: RPCMethod {
        public typealias Result = StatusResult
        public static let name = "status"
        public static let access = MethodAccess.everyone
        public static let paramsWhenAbsent: Self? = Self()
        public static let members: [(name: String, accepts: String)] = []

        public var namedApp: String? { nil }

        public init() {}
    }
}
