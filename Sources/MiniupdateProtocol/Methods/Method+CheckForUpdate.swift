extension Method {
    /// `checkForUpdate {"app"?}`: checks one app now, or every installed app when `app`
    /// is absent (as are params). Subscribers receive `onCheckForUpdate` before the
    /// response, and the download of an update starts in the background.
    public struct CheckForUpdate: RPCMethod {
        public typealias Result = CheckForUpdateResult
        public static let name = "checkForUpdate"
        /// An app's owner may check its own app, as it may apply its own update.
        public static let access = MethodAccess.administratorsAndAppOwner
        public static let mayTakeLong = true
        public static let paramsWhenAbsent: Self? = Self(app: nil)
        public static let members = [(name: "app", accepts: appMember.accepts + ", or absent for every installed app")]

        /// Nil checks every installed app.
        public var app: String?
        public var namedApp: String? { app }

        public init(app: String? = nil) { self.app = app }
    }
}

/// One app's outcome in a `checkForUpdate` result.
public struct CheckResultPayload: Codable, Sendable, Equatable {
    public var app: String
    public var hasUpdate: Bool
    /// The version on offer when `hasUpdate` is true.
    public var version: String?

    public init(app: String, hasUpdate: Bool, version: String?) {
        self.app = app
        self.hasUpdate = hasUpdate
        self.version = version
    }
}

/// The result of `checkForUpdate`: the app checked (`app`, `hasUpdate`, `version`), or
/// every app when none was named (`results`).
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

    /// Every app's outcome, however the result was shaped.
    public var outcomes: [CheckResultPayload] {
        if let results { return results }
        guard let app else { return [] }
        return [CheckResultPayload(app: app, hasUpdate: hasUpdate ?? false, version: version)]
    }
}
