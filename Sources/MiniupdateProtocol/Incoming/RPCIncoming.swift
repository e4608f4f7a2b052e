import FoundationEssentials
import MiniupdateCore

/// A message a client sent, decoded in one pass: the members every message has and, for a
/// method of protocol v1, its typed request.
///
/// Params that do not fit their method do not spoil the rest: the failure is kept, so the
/// method can answer "invalid params" to the request's id.
public struct RPCIncoming: Sendable, Decodable {
    /// The `jsonrpc` member, which must be `"2.0"`; nil when absent.
    public var jsonrpc: String?
    /// The `id` member; nil when absent or `null`, as for a notification.
    public var id: RPCID?
    /// The `method` member; nil when absent, as in a response.
    public var method: String?
    /// Whether the message has a `result` member: it is a response, which the daemon ignores.
    public var hasResult: Bool
    /// Whether the message has an `error` member: it is an error response, which the daemon
    /// ignores.
    public var hasError: Bool
    /// The request, or why its params do not fit its method; nil when ``method`` is absent
    /// or no method of protocol v1.
    public var request: Result<ClientRequest, RPCParamsError>?

    /// Decodes the envelope and, for a method of protocol v1, its params.
    /// - Throws: When the message is not an object, or a member of the envelope has the
    ///   wrong type; a problem with the params is kept in ``request`` instead.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: NotificationKeys.self)
        jsonrpc = try container.decodeIfPresent(String.self, forKey: .jsonrpc)
        id = try container.decodeIfPresent(RPCID.self, forKey: .id)
        method = try container.decodeIfPresent(String.self, forKey: .method)
        hasResult = container.contains(.result)
        hasError = container.contains(.error)
        request = method.flatMap { ClientRequest.decoders[$0] }.map { $0(container) }
    }
}

/// One message of a line, as the daemon acts on it.
public enum IncomingMessage: Sendable {
    /// A request to execute: answered when it has an id, not when it is a notification.
    case request(IncomingRequest)
    /// Not a valid request: this error is the answer.
    case invalid(RPCErrorResponse)
    /// A response or an error from the client, which the daemon never asked for: ignored.
    case ignored
}

/// A request whose envelope is valid.
public struct IncomingRequest: Sendable {
    /// Nil for a notification.
    public var id: RPCID?
    /// The method's name as sent (at most 100 characters of it are ever echoed).
    public var method: String
    /// The typed request, or the error to answer: "method not found", "invalid params".
    public var request: Result<ClientRequest, RPCError>

    /// Creates a request.
    /// - Parameters:
    ///   - id: The request's id; nil for a notification.
    ///   - method: The method's name as sent.
    ///   - request: The typed request, or the error to answer with.
    public init(id: RPCID?, method: String, request: Result<ClientRequest, RPCError>) {
        self.id = id
        self.method = method
        self.request = request
    }

    /// Whether it may take long, and so runs beside the connection's later requests.
    public var mayTakeLong: Bool { (try? request.get())?.mayTakeLong ?? false }
}

/// A line from a client: one message, or a JSON-RPC batch of them (the spec's section 6).
public enum IncomingLine: Sendable {
    /// A line holding one message, or a line that is not valid at all (its one error).
    case single(IncomingMessage)
    /// A batch's messages, in order; never empty.
    case batch([IncomingMessage])

    /// Shared by every event loop: each `decode` works on its own state.
    private static let decoder = JSONDecoder()

    /// Parses a line: strict JSON (no duplicate keys, at most 32 levels), then the
    /// envelope and params of each message. A batch holds at most `maximumBatchLength`
    /// messages; a longer one, or an empty one, is one invalid request.
    public static func parse(_ line: [UInt8], maximumBatchLength: Int) -> IncomingLine {
        do {
            try StrictJSON.validate(line)
        } catch {
            return .single(.invalid(RPCErrorResponse(id: nil, error: RPCError(code: RPCErrorCode.parseError, message: "parse error: \(error)"))))
        }
        guard line.first(where: { !isJSONWhitespace($0) }) == UInt8(ascii: "[") else {
            return .single(message(decoding: line))
        }
        guard let elements = try? decoder.decode([BatchElement].self, from: Data(line)) else {
            return .single(.invalid(parseError))
        }
        guard !elements.isEmpty, elements.count <= maximumBatchLength else {
            let why = elements.isEmpty ? "an empty batch" : "a batch of \(elements.count) messages; at most \(maximumBatchLength) are accepted"
            return .single(.invalid(RPCErrorResponse(id: nil, error: RPCError(code: RPCErrorCode.invalidRequest, message: "invalid request: \(why)"))))
        }
        return .batch(elements.map(\.message))
    }

    private static func message(decoding line: [UInt8]) -> IncomingMessage {
        do {
            return message(try decoder.decode(RPCIncoming.self, from: Data(line)))
        } catch {
            return .invalid(JSONValidity.isValid(line) ? notAnObject : parseError)
        }
    }

    static func message(_ incoming: RPCIncoming) -> IncomingMessage {
        if incoming.method == nil, incoming.hasResult || incoming.hasError { return .ignored }
        guard incoming.jsonrpc == "2.0", let method = incoming.method else {
            return .invalid(RPCErrorResponse(id: incoming.id, error: RPCError(
                code: RPCErrorCode.invalidRequest, message: #"invalid request: "jsonrpc" must be "2.0" and "method" a string"#
            )))
        }
        let request: Result<ClientRequest, RPCError>
        switch incoming.request {
        case .success(let decoded)?:
            request = .success(decoded)
        case .failure(let error)?:
            request = .failure(RPCError(code: RPCErrorCode.invalidParams, message: "invalid params for \(method): \(error)", reason: .invalidArgument))
        case nil:
            request = .failure(RPCError(code: RPCErrorCode.methodNotFound, message: "method not found: \(String(reflecting: String(method.prefix(100)))); protocol v1 has \(ClientRequest.namesInWords)"))
        }
        return .request(IncomingRequest(id: incoming.id, method: method, request: request))
    }

    /// One member of a batch: a message, or why it is none.
    private struct BatchElement: Decodable {
        let message: IncomingMessage

        init(from decoder: any Decoder) throws {
            do {
                message = IncomingLine.message(try RPCIncoming(from: decoder))
            } catch {
                message = .invalid(notAnObject)
            }
        }
    }

    private static let parseError = RPCErrorResponse(id: nil, error: RPCError(code: RPCErrorCode.parseError, message: "parse error: not valid JSON"))
    private static let notAnObject = RPCErrorResponse(id: nil, error: RPCError(
        code: RPCErrorCode.invalidRequest, message: #"invalid request: expected a JSON-RPC 2.0 object {"jsonrpc": "2.0", "method": …, "params": …, "id": …}"#
    ))

    private static func isJSONWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0a || byte == 0x0d
    }
}
