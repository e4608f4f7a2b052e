import MiniupdateProtocol
import NIOCore
import Synchronization

/// The last `status` result, encoded, and what it was computed from (its ``Key``).
///
/// While the key is unchanged, a `status` request is answered from here on the client's
/// event loop, without a hop to a task or to the engine actor.
final class StatusCache: Sendable {
    /// What a status depends on: the engine's
    /// ``MiniupdateEngine/UpdateEngine/statusGeneration``, the daemon's own state
    /// (``DaemonStateBox/generation``), and the number of clients.
    struct Key: Equatable {
        var engine: UInt64
        var daemon: UInt64
        var clients: Int
    }

    private struct Entry {
        var key: Key
        var result: [UInt8]
    }

    private let entry = Mutex<Entry?>(nil)

    func store(_ result: [UInt8], key: Key) {
        entry.withLock { $0 = Entry(key: key, result: result) }
    }

    /// The response line to request `id`, if the cached result is still current.
    func response(to id: RPCID, key: Key) -> ByteBuffer? {
        entry.withLock { entry in
            guard let entry, entry.key == key else { return nil }
            return encodeResponseLine(id: id, encodedResult: entry.result)
        }
    }
}
