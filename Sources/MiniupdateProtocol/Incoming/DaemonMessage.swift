import FoundationEssentials

/// A line the daemon sent, as a client reads it: a response to one of its requests, a
/// batch of responses, or an event.
public enum DaemonMessage: Sendable {
    /// A response (result or error) to the request with this id; `line` is the whole
    /// message, decoded by the caller as its method's result.
    case response(id: RPCID?, line: [UInt8])
    /// The response to a batch: one line holding an array of responses.
    case batchResponse(line: [UInt8])
    /// A notification: `event` is nil for a method this version does not know, which
    /// clients must ignore, and when its params do not decode.
    case notification(method: String, event: DaemonEvent?, line: [UInt8])

    private static let decoder = JSONDecoder()

    /// Decodes a line; nil for one that is neither (not JSON, or neither id nor method).
    public init?(line: [UInt8]) {
        if line.first == UInt8(ascii: "[") {
            self = .batchResponse(line: line)
            return
        }
        guard let envelope = try? Self.decoder.decode(Envelope.self, from: Data(line)) else { return nil }
        if let method = envelope.method {
            self = .notification(method: method, event: envelope.event, line: line)
        } else if envelope.hasResponse {
            self = .response(id: envelope.id, line: line)
        } else {
            return nil
        }
    }

    private struct Envelope: Decodable {
        var id: RPCID?
        var method: String?
        var event: DaemonEvent?
        var hasResponse: Bool

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: NotificationKeys.self)
            id = try? container.decodeIfPresent(RPCID.self, forKey: .id)
            method = try container.decodeIfPresent(String.self, forKey: .method)
            event = try? method.flatMap { DaemonEvent.decoders[$0] }.map { try $0(container) }
            hasResponse = container.contains(.result) || container.contains(.error)
        }
    }
}
