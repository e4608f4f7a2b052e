import MiniupdateCore

/// The `error` member of a response. `code` is a JSON-RPC number; `data.reason` is the
/// stable string code of miniupdate's error (see `docs/errors.md`).
public struct RPCError: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    /// The `data` member: miniupdate's reason.
    public struct Data: Codable, Sendable, Equatable {
        /// The stable string code (`data.reason`), such as `no-update-ready`.
        public var reason: String

        /// Creates the `data` member with its reason.
        public init(reason: String) { self.reason = reason }
    }

    /// The `code` member: a standard JSON-RPC number (``RPCErrorCode``, negative) or one of
    /// miniupdate's application codes (1001 and up).
    public var code: Int
    /// The `message` member, for people; clients should act on ``code`` and ``reason``, not
    /// on its words.
    public var message: String
    /// The `data` member; nil, and absent on the wire, for standard JSON-RPC errors that
    /// carry no reason.
    public var data: Data?

    /// Creates an error from its members.
    /// - Parameters:
    ///   - code: The `code`: a JSON-RPC number (see ``RPCErrorCode``) or an application code.
    ///   - message: The `message`, for people.
    ///   - reason: miniupdate's code for `data.reason`, such as `invalid-app-id` for an
    ///     `invalid params` about the app id; nil leaves `data` out.
    public init(code: Int, message: String, reason: UpdateError.Code? = nil) {
        self.code = code
        self.message = message
        self.data = reason.map { Data(reason: $0.rawValue) }
    }

    /// An application error for one of miniupdate's codes such as `digest-mismatch`: its
    /// number is the code's.
    public init(_ reason: UpdateError.Code, _ message: String) {
        self.init(code: reason.number, message: message, reason: reason)
    }

    /// The answer to a request that failed with `error`.
    public init(_ error: UpdateError) {
        self.init(error.code, error.message)
    }

    /// miniupdate's code, as the daemon sent it (a code this version does not know keeps
    /// its name and number); nil for the standard JSON-RPC errors, which have none.
    public var reason: UpdateError.Code? {
        data.map { UpdateError.Code(rawValue: $0.reason, number: code) }
    }

    /// The message and, in brackets, the reason, or the code when there is none.
    public var description: String { "\(message) [\(data?.reason ?? String(code))]" }
}

/// The standard JSON-RPC error numbers. miniupdate's own are its codes'
/// (``MiniupdateCore/UpdateError/Code/number``).
public enum RPCErrorCode {
    /// -32700: not JSON, not UTF-8, nested deeper than 32 levels, or an object with
    /// duplicate keys.
    public static let parseError = -32700
    /// -32600: not a JSON-RPC 2.0 request object, an empty or too long batch, or a line
    /// over 1 MiB.
    public static let invalidRequest = -32600
    /// -32601: no method of protocol v1 has that name.
    public static let methodNotFound = -32601
    /// -32602: the params do not fit the method; the message names the member and what it
    /// accepts. `data.reason` is `invalid-app-id` for a bad app id, else `invalid-argument`.
    public static let invalidParams = -32602
    /// -32603: the daemon failed in a way no other code describes.
    public static let internalError = -32603
}
