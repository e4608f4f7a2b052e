/// Why params do not fit their method, in words for an "invalid params" answer: the
/// member that is missing or wrong, by its name inside `params`, and what it accepts.
public struct RPCParamsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The reason, such as `outcome: expected "ready", "failed" or "no-update"; got "bogus"`;
    /// the daemon's message is `invalid params for <method>: ` and this.
    public let description: String

    /// Creates the error with its words for the answer.
    public init(_ description: String) { self.description = description }

    /// Decodes `Method`'s params from a request's members, or says why they do not fit.
    static func decode<Method: RPCMethod>(_: Method.Type, from container: KeyedDecodingContainer<NotificationKeys>) -> Result<Method, RPCParamsError> {
        // A method without members does not read params, whatever they hold: protocol v1
        // has always answered `status` so.
        if Method.members.isEmpty, let absent = Method.paramsWhenAbsent { return .success(absent) }
        guard container.contains(.params) else {
            if let absent = Method.paramsWhenAbsent { return .success(absent) }
            return .failure(RPCParamsError("missing params: expected \(shape(of: Method.self))"))
        }
        do {
            // `null` is no object: JSON-RPC's params are an object or an array, if present.
            if try container.decodeNil(forKey: .params) {
                return .failure(RPCParamsError("params: expected \(shape(of: Method.self)), got null"))
            }
            return .success(try container.decode(Method.self, forKey: .params))
        } catch let error as DecodingError {
            return .failure(RPCParamsError(error, method: Method.self))
        } catch {
            return .failure(RPCParamsError("params: \(error)"))
        }
    }

    init<Method: RPCMethod>(_ error: DecodingError, method: Method.Type) {
        let context: DecodingError.Context
        var path: [any CodingKey]
        switch error {
        case .keyNotFound(let key, let keyContext):
            context = keyContext
            path = keyContext.codingPath + [key]
        case .typeMismatch(_, let mismatch), .valueNotFound(_, let mismatch), .dataCorrupted(let mismatch):
            context = mismatch
            path = mismatch.codingPath
        @unknown default:
            self.init("params: \(error)")
            return
        }
        if path.first?.stringValue == NotificationKeys.params.stringValue { path.removeFirst() }
        guard let member = path.first?.stringValue else {
            // The params themselves are not an object: an array, a string, a number.
            self.init("params: expected \(Self.shape(of: Method.self)); by-position (array) params are not supported")
            return
        }
        let accepts = Method.members.first { $0.name == member }?.accepts ?? "a valid value"
        if case .keyNotFound = error {
            self.init("missing \(member): expected \(accepts)")
        } else if case .dataCorrupted = error, context.debugDescription.hasPrefix("got ") {
            // Our own decoders say what they got; Foundation's words are not for users.
            self.init("\(member): expected \(accepts); \(context.debugDescription)")
        } else {
            self.init("\(member): expected \(accepts)")
        }
    }

    /// `an object {"app": …}`, or `an object ({}), or no params` for a method without members.
    static func shape<Method: RPCMethod>(of _: Method.Type) -> String {
        let members = Method.members.map { "\"\($0.name)\": …" }
        return members.isEmpty ? "an object ({}), or no params" : "an object {\(members.joined(separator: ", "))}"
    }
}
