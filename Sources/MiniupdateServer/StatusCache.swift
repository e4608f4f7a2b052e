import MiniupdateProtocol
import NIOCore
import Synchronization

/// The last `status` result, encoded, and what it was computed from: the engine's
/// ``MiniupdateEngine/UpdateEngine/statusGeneration`` and the number of clients.
///
/// While both are unchanged, a `status` request is answered from here on the client's
/// event loop, without a hop to a task or to the engine actor.
final class StatusCache: Sendable {
    private struct Entry {
        var generation: UInt64
        var clients: Int
        var result: [UInt8]
    }

    private let entry = Mutex<Entry?>(nil)

    func store(_ result: [UInt8], generation: UInt64, clients: Int) {
        entry.withLock { $0 = Entry(generation: generation, clients: clients, result: result) }
    }

    /// The response line to request `id`, if the cached result is still current.
    func response(to id: RPCID, generation: UInt64, clients: Int) -> ByteBuffer? {
        entry.withLock { entry in
            guard let entry, entry.generation == generation, entry.clients == clients else { return nil }
            return Self.response(to: id, result: entry.result)
        }
    }

    /// `{"id":…,"jsonrpc":"2.0","result":…}` and a newline: what ``encodeLine(_:)`` makes of
    /// an ``RPCResponse``, with the result already encoded.
    static func response(to id: RPCID, result: [UInt8]) -> ByteBuffer {
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
}
