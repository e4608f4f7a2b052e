/// The `error` member of a response. `code` is a JSON-RPC number; `data.reason` is the
/// stable string code of miniupdate's error (see `docs/errors.md`).
public struct RPCError: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    public struct Data: Codable, Sendable, Equatable {
        public var reason: String

        public init(reason: String) { self.reason = reason }
    }

    public var code: Int
    public var message: String
    public var data: Data?

    public init(code: Int, message: String, reason: String? = nil) {
        self.code = code
        self.message = message
        self.data = reason.map(Data.init)
    }

    /// An application error for a miniupdate error code such as `digest-mismatch`.
    public init(reason: String, message: String) {
        self.init(code: RPCErrorCode.number(forReason: reason), message: message, reason: reason)
    }

    public var reason: String? { data?.reason }

    public var description: String { "\(message) [\(data?.reason ?? String(code))]" }
}

/// Numeric error codes. The standard JSON-RPC ones, then miniupdate's own: 1000s for
/// requests the daemon refuses, 2000s for repository and verification failures, 3000s for
/// local failures.
public enum RPCErrorCode {
    public static let parseError = -32700
    public static let invalidRequest = -32600
    public static let methodNotFound = -32601
    public static let invalidParams = -32602
    public static let internalError = -32603

    /// miniupdate's string codes and their numbers. Numbers never change meaning.
    public static let byReason: [String: Int] = [
        "unknown-app": 1001,
        "no-update-ready": 1002,
        "not-permitted": 1003,
        "busy": 1004,
        "no-previous-version": 1005,
        "shutting-down": 1006,
        "cancelled": 1007,
        "invalid-app-id": 1008,
        "invalid-argument": 1009,
        "invalid-version": 1010,
        "version-not-newer": 1011,
        "too-many-subscriptions": 1012,
        "index-malformed": 2001,
        "signature-invalid": 2002,
        "untrusted-key": 2003,
        "index-rollback": 2004,
        "index-expired": 2005,
        "index-too-large": 2006,
        "package-too-large": 2010,
        "package-truncated": 2011,
        "digest-mismatch": 2012,
        "archive-malformed": 2020,
        "archive-unsafe-path": 2021,
        "archive-unsupported-entry": 2022,
        "archive-link-escape": 2023,
        "archive-too-large": 2024,
        "archive-too-many-files": 2025,
        "repository-unreachable": 2030,
        "http-status": 2031,
        "timeout": 2032,
        "transfer-too-slow": 2033,
        "redirect-refused": 2034,
        "not-found": 2035,
        "no-space": 3001,
        "io": 3002,
        "state-corrupt": 3003,
        "simulated": 3100,
    ]

    public static func number(forReason reason: String) -> Int {
        byReason[reason] ?? internalError
    }
}
