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
            return encodeResponseLine(id: id, encodedResult: entry.result)
        }
    }
}
