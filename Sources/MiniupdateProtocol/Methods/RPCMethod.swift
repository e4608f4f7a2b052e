/// A method of protocol v1. The conforming type is the method's params: its members are
/// the members of `params`. ``Result`` is what a successful response carries.
///
/// ```swift
/// let result = try await client.call(Method.Subscribe(app: "com.example.weather"))  // SubscribeResult
/// ```
///
/// The daemon decodes a request into a ``ClientRequest``, whose cases are these types.
public protocol RPCMethod: Codable, Sendable, Equatable {
    /// What the `result` member of a successful response holds.
    associatedtype Result: Codable & Sendable

    /// The method's name on the wire.
    static var name: String { get }
    /// Who may call it; see ``MethodAccess``.
    static var access: MethodAccess { get }
    /// Whether it may take long (network, downloads): it then runs beside the
    /// connection's later requests instead of before them.
    static var mayTakeLong: Bool { get }
    /// The params of a request that has none, for a method whose members are all
    /// optional; nil when params are required.
    static var paramsWhenAbsent: Self? { get }
    /// Each member of params and the values it accepts, for refusals that say so.
    static var members: [(name: String, accepts: String)] { get }

    /// The app the params name, if any: what the access check and the logs use.
    var namedApp: String? { get }
}

/// A method whose params are one app: `{"app"}`, and perhaps more.
public protocol AppMethod: RPCMethod {
    /// The app id (`app`), such as `com.example.weather`.
    var app: String { get }
}

extension AppMethod {
    /// The app in ``app``.
    public var namedApp: String? { app }
}

extension RPCMethod {
    /// False unless the method says otherwise: most methods answer at once, in order.
    public static var mayTakeLong: Bool { false }
    /// Nil unless the method says otherwise: params are required.
    public static var paramsWhenAbsent: Self? { nil }
}

/// Who may call a method. The socket's mode and group already decide who may connect.
public enum MethodAccess: Sendable, Equatable {
    /// Any client that can connect.
    case everyone
    /// Root, the daemon's own user, and members of the configured admin group.
    case administrators
    /// Administrators, and the user configured as the owner of the app named in params
    /// (`app-owner.<app id>`), for that app only.
    case administratorsAndAppOwner
}

/// What `app` accepts, in the words every refusal uses.
let appMember = (name: "app", accepts: #"an app id such as "com.example.weather" (^[a-z0-9][a-z0-9._-]{0,127}$, without "..")"#)

/// The namespace of protocol v1's methods: `Method.Subscribe`, `Method.Status`, …
public enum Method {}
