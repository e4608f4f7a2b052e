import FoundationEssentials
import NIOCore

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

/// Shared by every thread: each `encode` works on its own state, and nothing changes the
/// options after this.
private let lineEncoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
}()

/// Encodes one message as a line: compact JSON and a newline.
public func encodeLine(_ value: some Encodable) -> [UInt8] {
    // Our message types always encode: they hold strings, numbers and arrays of them.
    var bytes = Array(try! lineEncoder.encode(value))
    bytes.append(UInt8(ascii: "\n"))
    return bytes
}

/// What ``encodeLine(_:)`` makes of an ``RPCResponse`` whose result is encoded already:
/// `{"id":…,"jsonrpc":"2.0","result":…}` and a newline. A result that answers many
/// requests (the cached status, an empty object) is encoded once, not once per request.
public func encodeResponseLine(id: RPCID, encodedResult result: some Collection<UInt8>) -> ByteBuffer {
    var buffer = ByteBuffer()
    buffer.reserveCapacity(result.count + 48)
    buffer.writeString(#"{"id":"#)
    switch id {
    case .number(let number): buffer.writeString(String(number))
    case .string: buffer.writeBytes(encodeLine(id).dropLast())
    }
    buffer.writeString(#","jsonrpc":"2.0","result":"#)
    buffer.writeBytes(result)
    buffer.writeString("}\n")
    return buffer
}
