extension Method {
    /// `checkForUpdate {"app"?}`: checks one app now, or every installed app when `app`
    /// is absent (as are params). Subscribers receive `onCheckForUpdate` before the
    /// response, and the download of an update starts in the background.
    public struct CheckForUpdate: RPCMethod {
        /// One app's outcome, or every app's when no app was named.
        public typealias Result = CheckForUpdateResult
        /// The method's name on the wire.
        public static let name = "checkForUpdate"
        /// An app's owner may check its own app, as it may apply its own update.
        public static let access = MethodAccess.administratorsAndAppOwner
        /// True: it fetches the repository's index, so it runs beside the connection's later
        /// requests.
        public static let mayTakeLong = true
        /// Absent params check every installed app, as `{}` does.
        public static let paramsWhenAbsent: Self? = Self(app: nil)
        /// `app`, which may be absent.
        public static let members = [(name: "app", accepts: appMember.accepts + ", or absent for every installed app")]

        /// Nil checks every installed app.
        public var app: String?
        /// The app named, for the owner check; nil when every app is checked, which only
        /// administrators may do.
        public var namedApp: String? { app }

        /// Creates the params.
        /// - Parameter app: The id of the app to check; nil checks every installed app.
        public init(app: String? = nil) { self.app = app }
    }
}

/// One app's outcome in a `checkForUpdate` result.
public struct CheckResultPayload: Codable, Sendable, Equatable {
    /// The app id (`app`), such as `com.example.weather`.
    public var app: String
    /// Whether the repository offers a version newer than the installed one (`hasUpdate`);
    /// always false for a development install, which is never checked.
    public var hasUpdate: Bool
    /// The version on offer when `hasUpdate` is true; nil, and absent on the wire, otherwise.
    public var version: String?

    /// Creates one app's outcome.
    /// - Parameters:
    ///   - app: The app id.
    ///   - hasUpdate: Whether a newer version is on offer.
    ///   - version: The version on offer, or nil when there is none.
    public init(app: String, hasUpdate: Bool, version: String?) {
        self.app = app
        self.hasUpdate = hasUpdate
        self.version = version
    }
}

/// The result of `checkForUpdate`: the app checked (`app`, `hasUpdate`, `version`), or
/// every app when none was named (`results`).
public struct CheckForUpdateResult: Codable, Sendable, Equatable {
    /// The app checked (`app`); nil, and absent, in the result of a check of every app.
    public var app: String?
    /// Whether that app has an update on offer (`hasUpdate`); nil, and absent, in the
    /// result of a check of every app.
    public var hasUpdate: Bool?
    /// The version on offer (`version`); nil, and absent, when there is none or every app
    /// was checked.
    public var version: String?
    /// Each installed app's outcome (`results`), in the result of a check of every app; nil,
    /// and absent, when one app was named. Read ``outcomes`` to handle both shapes.
    public var results: [CheckResultPayload]?

    /// The result of a check of one app: `{"app", "hasUpdate", "version"}`.
    public init(single: CheckResultPayload) {
        app = single.app
        hasUpdate = single.hasUpdate
        version = single.version
    }

    /// The result of a check of every installed app: `{"results": […]}`.
    public init(all: [CheckResultPayload]) { results = all }

    /// Every app's outcome, however the result was shaped.
    public var outcomes: [CheckResultPayload] {
        if let results { return results }
        guard let app else { return [] }
        return [CheckResultPayload(app: app, hasUpdate: hasUpdate ?? false, version: version)]
    }
}
