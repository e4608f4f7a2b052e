import FoundationEssentials

/// Wire protocol v1: JSON-RPC 2.0 over a stream Unix socket, one message per line.
/// See `docs/protocol.md`, which is the normative description.
public enum WireProtocol {
    /// The default socket path; `MINIUPDATE_SOCKET` overrides it for daemon and clients.
    public static let defaultSocketPath = "/run/miniupdate/miniupdate.sock"
    public static let socketEnvironmentVariable = "MINIUPDATE_SOCKET"
    /// The longest line, newline excluded, either side accepts.
    public static let maximumLineLength = 1 << 20
}

/// A request id: a number or a string, echoed in the response.
public enum RPCID: Sendable, Hashable, Codable, CustomStringConvertible {
    case number(Int64)
    case string(String)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int64.self) {
            self = .number(number)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let number): try container.encode(number)
        case .string(let string): try container.encode(string)
        }
    }

    public var description: String {
        switch self {
        case .number(let number): "\(number)"
        case .string(let string): String(reflecting: string)
        }
    }
}

/// The fields every incoming message has; `params` is decoded separately by method.
public struct RPCEnvelope: Sendable, Decodable {
    public var jsonrpc: String?
    public var id: RPCID?
    public var method: String?
    public var hasResult: Bool
    public var hasError: Bool

    private enum CodingKeys: String, CodingKey { case jsonrpc, id, method, result, error }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        jsonrpc = try container.decodeIfPresent(String.self, forKey: .jsonrpc)
        id = try container.decodeIfPresent(RPCID.self, forKey: .id)
        method = try container.decodeIfPresent(String.self, forKey: .method)
        hasResult = container.contains(.result)
        hasError = container.contains(.error)
    }
}

/// Decodes only the `params` member of a message.
public struct RPCParams<Params: Decodable & Sendable>: Decodable, Sendable {
    public var params: Params
}

public struct RPCRequest<Params: Encodable & Sendable>: Encodable, Sendable {
    public var jsonrpc = "2.0"
    public var id: RPCID
    public var method: String
    public var params: Params

    public init(id: RPCID, method: String, params: Params) {
        self.id = id
        self.method = method
        self.params = params
    }
}

public struct RPCResponse<Result: Codable & Sendable>: Codable, Sendable {
    public var jsonrpc = "2.0"
    public var id: RPCID
    public var result: Result

    public init(id: RPCID, result: Result) {
        self.id = id
        self.result = result
    }
}

public struct RPCErrorResponse: Codable, Sendable, Error {
    public var jsonrpc = "2.0"
    /// Null when the request's id could not be read.
    public var id: RPCID?
    public var error: RPCError

    public init(id: RPCID?, error: RPCError) {
        self.id = id
        self.error = error
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(jsonrpc, forKey: .jsonrpc)
        try container.encode(id, forKey: .id)  // explicit null, as JSON-RPC requires
        try container.encode(error, forKey: .error)
    }

    private enum CodingKeys: String, CodingKey { case jsonrpc, id, error }
}

public struct RPCNotification<Params: Codable & Sendable>: Codable, Sendable {
    public var jsonrpc = "2.0"
    public var method: String
    public var params: Params

    public init(method: String, params: Params) {
        self.method = method
        self.params = params
    }
}

/// An empty object, for methods without params or results.
public struct Empty: Codable, Sendable, Equatable {
    public init() {}
}

/// Encodes one message as a line: compact JSON and a newline.
public func encodeLine(_ value: some Encodable) -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    // Our message types always encode: they hold strings, numbers and arrays of them.
    var bytes = Array(try! encoder.encode(value))
    bytes.append(UInt8(ascii: "\n"))
    return bytes
}
