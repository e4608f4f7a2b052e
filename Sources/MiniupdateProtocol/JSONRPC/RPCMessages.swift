/// A JSON-RPC 2.0 request: `{"jsonrpc":"2.0","id":…,"method":…,"params":…}`.
public struct RPCRequest<Params: Encodable & Sendable>: Encodable, Sendable {
    /// The protocol version member, always `"2.0"`.
    public var jsonrpc = "2.0"
    /// Nil for a notification, which is executed and never answered.
    public var id: RPCID?
    /// The method's name (`method`), such as `subscribe`.
    public var method: String
    /// The `params` object: the method's members by name.
    public var params: Params

    /// Creates a request.
    /// - Parameters:
    ///   - id: The request's id; nil for a notification.
    ///   - method: The method's name.
    ///   - params: The params, which encode as a JSON object.
    public init(id: RPCID?, method: String, params: Params) {
        self.id = id
        self.method = method
        self.params = params
    }

}

extension RPCRequest where Params: RPCMethod {
    /// The request of a protocol method: its name from the type, its params the value.
    public init(id: RPCID?, _ method: Params) {
        self.init(id: id, method: Params.name, params: method)
    }
}

/// A successful response: the request's id and its method's result.
public struct RPCResponse<Result: Codable & Sendable>: Codable, Sendable {
    /// The protocol version member, always `"2.0"`.
    public var jsonrpc = "2.0"
    /// The id of the request it answers.
    public var id: RPCID
    /// The `result` member: the method's ``RPCMethod/Result``.
    public var result: Result

    /// Creates the response to the request with `id`.
    public init(id: RPCID, result: Result) {
        self.id = id
        self.result = result
    }
}

/// A failed response. Also thrown by clients that got one.
public struct RPCErrorResponse: Codable, Sendable, Error {
    /// The protocol version member, always `"2.0"`.
    public var jsonrpc = "2.0"
    /// Null when the request's id could not be read.
    public var id: RPCID?
    /// The `error` member: its code, message and reason.
    public var error: RPCError

    /// Creates the error response to the request with `id`; nil when its id could not be read.
    public init(id: RPCID?, error: RPCError) {
        self.id = id
        self.error = error
    }

    /// Encodes the response, writing `"id": null` when ``id`` is nil.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(jsonrpc, forKey: .jsonrpc)
        try container.encode(id, forKey: .id)  // explicit null, as JSON-RPC requires
        try container.encode(error, forKey: .error)
    }

    private enum CodingKeys: String, CodingKey { case jsonrpc, id, error }
}

/// A notification: a message without an id. The daemon's are its events (``DaemonEvent``).
public struct RPCNotification<Params: Codable & Sendable>: Codable, Sendable {
    /// The protocol version member, always `"2.0"`.
    public var jsonrpc = "2.0"
    /// The notification's method, such as `onUpdateReady`.
    public var method: String
    /// The `params` object.
    public var params: Params

    /// Creates a notification of `method` with `params`.
    public init(method: String, params: Params) {
        self.method = method
        self.params = params
    }

    /// The notification of a protocol event: its name from the type.
    public init(_ event: Params) where Params: RPCEvent {
        self.init(method: Params.name, params: event)
    }
}

/// An empty object, for methods without params or results.
public struct Empty: Codable, Sendable, Equatable {
    /// Creates the empty object, `{}` on the wire.
    public init() {}
}
