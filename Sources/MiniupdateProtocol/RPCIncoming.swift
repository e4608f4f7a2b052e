import FoundationEssentials

/// A message a peer sent, decoded in one pass: the members every message has and, for a
/// method of protocol v1, its params.
///
/// Params that do not fit their method do not spoil the rest: they are kept as a
/// ``RPCParamsError``, so the method can answer "invalid params" to the request's id.
public struct RPCIncoming: Sendable, Decodable {
    public var jsonrpc: String?
    public var id: RPCID?
    public var method: String?
    public var hasResult: Bool
    public var hasError: Bool
    /// The params as ``method`` takes them, or why they do not fit it.
    public var params: Result<RequestParams, RPCParamsError>

    private enum CodingKeys: String, CodingKey { case jsonrpc, id, method, params, result, error }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        jsonrpc = try container.decodeIfPresent(String.self, forKey: .jsonrpc)
        id = try container.decodeIfPresent(RPCID.self, forKey: .id)
        method = try container.decodeIfPresent(String.self, forKey: .method)
        hasResult = container.contains(.result)
        hasError = container.contains(.error)
        do {
            params = .success(try Self.params(of: method, in: container))
        } catch let error as DecodingError {
            params = .failure(RPCParamsError(error))
        }
    }

    /// Protocol v1's table of methods and their params.
    private static func params(of method: String?, in container: KeyedDecodingContainer<CodingKeys>) throws -> RequestParams {
        switch method {
        case Method.subscribe?, Method.unsubscribe?, Method.applyUpdate?, Method.install?, Method.rollback?:
            return .app(try container.decode(AppParams.self, forKey: .params))
        case Method.checkForUpdate?:
            // Absent params check every app; `null` is no object, and is refused.
            return .check(container.contains(.params) ? try container.decode(CheckParams.self, forKey: .params) : nil)
        case Method.simulate?:
            return .simulate(try container.decode(SimulateParams.self, forKey: .params))
        default:
            // `status` takes none; an unknown method's params wait for its "method not found".
            return .unread
        }
    }
}

/// A request's params, by method.
public enum RequestParams: Sendable, Equatable {
    /// `status`, and methods protocol v1 does not have: params are not read.
    case unread
    /// `subscribe`, `unsubscribe`, `applyUpdate`, `install` and `rollback`.
    case app(AppParams)
    /// `checkForUpdate`: nil checks every installed app.
    case check(CheckParams?)
    case simulate(SimulateParams)

    /// The app the params name, if any.
    public var app: String? {
        switch self {
        case .unread: nil
        case .app(let params): params.app
        case .check(let params): params?.app
        case .simulate(let params): params.app
        }
    }
}

/// Why params do not fit their method, in words for an "invalid params" answer: what is
/// missing or wrong, named by its path inside `params`.
public struct RPCParamsError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String

    public init(_ error: DecodingError) {
        switch error {
        case .keyNotFound(let key, let context):
            description = "missing \(Self.path(context.codingPath + [key]))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            description = "\(Self.path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            description = "\(error)"
        }
    }

    /// `app`, `outcome`, or `params` for the member itself.
    private static func path(_ keys: [any CodingKey]) -> String {
        let inside = (keys.first?.stringValue == "params" ? keys.dropFirst() : keys[...]).map(\.stringValue)
        return inside.isEmpty ? "params" : inside.joined(separator: ".")
    }
}
