/// Every request of protocol v1, as one value: what the daemon decodes a request into,
/// its method's params typed by its case.
public enum ClientRequest: Sendable, Equatable {
    /// `subscribe`: receive the app's events, after a replay of its state.
    case subscribe(Method.Subscribe)
    /// `unsubscribe`: stop the app's events on this connection.
    case unsubscribe(Method.Unsubscribe)
    /// `checkForUpdate`: check one app, or every installed app, now.
    case checkForUpdate(Method.CheckForUpdate)
    /// `applyUpdate`: switch the app to its staged update.
    case applyUpdate(Method.ApplyUpdate)
    /// `install`: install or update the app to the repository's latest version, and apply it.
    case install(Method.Install)
    /// `rollback`: go back to the app's previous version.
    case rollback(Method.Rollback)
    /// `status`: the daemon and every installed app.
    case status(Method.Status)
    /// `simulate`: send the app's subscribers the events of a made-up outcome.
    case simulate(Method.Simulate)

    /// The method's params, whatever its kind.
    public var method: any RPCMethod {
        switch self {
        case .subscribe(let method): method
        case .unsubscribe(let method): method
        case .checkForUpdate(let method): method
        case .applyUpdate(let method): method
        case .install(let method): method
        case .rollback(let method): method
        case .status(let method): method
        case .simulate(let method): method
        }
    }

    /// The method's name on the wire.
    public var name: String { type(of: method).name }
    /// Who may call it.
    public var access: MethodAccess { type(of: method).access }
    /// Whether it may take long, and so runs beside the connection's later requests.
    public var mayTakeLong: Bool { type(of: method).mayTakeLong }
    /// The app the params name, if any.
    public var app: String? { method.namedApp }

    typealias Decode = @Sendable (KeyedDecodingContainer<NotificationKeys>) -> Result<ClientRequest, RPCParamsError>

    /// Protocol v1's table of methods: each name, and how its params decode.
    static let decoders: [String: Decode] = {
        func entry<Method: RPCMethod>(_: Method.Type, _ wrap: @escaping @Sendable (Method) -> ClientRequest) -> (String, Decode) {
            (Method.name, { container in RPCParamsError.decode(Method.self, from: container).map(wrap) })
        }
        return Dictionary(uniqueKeysWithValues: [
            entry(Method.Subscribe.self) { .subscribe($0) },
            entry(Method.Unsubscribe.self) { .unsubscribe($0) },
            entry(Method.CheckForUpdate.self) { .checkForUpdate($0) },
            entry(Method.ApplyUpdate.self) { .applyUpdate($0) },
            entry(Method.Install.self) { .install($0) },
            entry(Method.Rollback.self) { .rollback($0) },
            entry(Method.Status.self) { .status($0) },
            entry(Method.Simulate.self) { .simulate($0) },
        ])
    }()

    /// The name of every method of protocol v1.
    public static let names: [String] = decoders.keys.sorted()

    /// ``names`` in words, as "method not found" lists them: made once.
    static let namesInWords = listOfAlternatives(names)
}
