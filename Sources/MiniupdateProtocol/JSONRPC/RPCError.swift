import MiniupdateCore

/// The `error` member of a response. `code` is a JSON-RPC number; `data.reason` is the
/// stable string code of miniupdate's error (see `docs/errors.md`).
public struct RPCError: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    /// The `data` member: miniupdate's reason.
    public struct Data: Codable, Sendable, Equatable {
        public var reason: String

        public init(reason: String) { self.reason = reason }
    }

    public var code: Int
    public var message: String
    public var data: Data?

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

    public var description: String { "\(message) [\(data?.reason ?? String(code))]" }
}

/// The standard JSON-RPC error numbers. miniupdate's own are its codes'
/// (``MiniupdateCore/UpdateError/Code/number``).
public enum RPCErrorCode {
    public static let parseError = -32700
    public static let invalidRequest = -32600
    public static let methodNotFound = -32601
    public static let invalidParams = -32602
    public static let internalError = -32603
}
