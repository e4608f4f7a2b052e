#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// The sockets of one event loop's connections, in one table, so that an event's fan-out
/// reads a few bytes per subscriber and makes one `send(2)`, like a C server's loop over
/// its descriptors, instead of touching each connection's objects.
///
/// A connection has a slot from its creation until its channel closes. The slot holds its
/// socket while messages may go straight to it, and -1 while they may not: before the
/// channel is active, while earlier bytes wait in NIO, once the connection is closing, and
/// from the moment NIO closes the socket. NIO closes it on the event loop in the same step
/// that tells the channel's handlers it is inactive, and the first of them clears the slot,
/// so a fan-out (a task of its own on the loop) never finds the number of a closed socket.
/// (The number is taken from NIO's scoped `withUnsafeTransportIfAvailable` once, and kept
/// only this way.) A slot names its owner's connection id too: a fan-out that was queued
/// before a slot was reused skips it.
///
/// Used only on its event loop.
final class LoopSockets {
    private struct Slot {
        /// The connection's id; 0 for a free slot (ids start at 1).
        var owner: UInt64
        var descriptor: CInt
    }

    private var slots: ContiguousArray<Slot> = []
    private var free: [Int32] = []

    init() {}

    /// A slot for connection `owner`, whose messages may not go straight to its socket yet.
    func allocate(owner: UInt64) -> Int32 {
        if let slot = free.popLast() {
            slots[Int(slot)] = Slot(owner: owner, descriptor: -1)
            return slot
        }
        slots.append(Slot(owner: owner, descriptor: -1))
        return Int32(slots.count - 1)
    }

    /// Frees `slot` if `owner` still holds it.
    func release(_ slot: Int32, owner: UInt64) {
        guard slots[Int(slot)].owner == owner else { return }
        slots[Int(slot)] = Slot(owner: 0, descriptor: -1)
        free.append(slot)
    }

    /// Lets messages go straight to `descriptor` (or, with -1, stops them).
    func setDirect(_ slot: Int32, owner: UInt64, descriptor: CInt) {
        guard slots[Int(slot)].owner == owner else { return }
        slots[Int(slot)].descriptor = descriptor
    }

    /// The socket to send straight to, or -1 if messages must go through NIO.
    func direct(_ slot: Int32, owner: UInt64) -> CInt {
        let entry = slots[Int(slot)]
        return entry.owner == owner ? entry.descriptor : -1
    }

    /// Sends `bytes` to every subscriber in `subscribers`: straight to its socket where it
    /// may, otherwise (or for what the socket did not take) through its connection.
    func send(_ bytes: ByteBuffer, to subscribers: ContiguousArray<Subscriber>) {
        // Read in place: copying each element out would retain its connection.
        subscribers.withUnsafeBufferPointer { list in
            for index in list.indices {
                if let rest = sendDirect(bytes, slot: list[index].slot, owner: list[index].id) {
                    list[index].connection.sendThroughNIO(rest)
                }
            }
        }
    }

    /// Sends what the socket of `slot` takes without waiting, if messages may go straight to
    /// it. Returns what is left for NIO to send (all of `bytes` if they may not), or nil.
    func sendDirect(_ bytes: ByteBuffer, slot: Int32, owner: UInt64) -> ByteBuffer? {
        let descriptor = direct(slot, owner: owner)
        guard descriptor >= 0 else { return bytes }
        let sent = bytes.withUnsafeReadableBytes { Self.sendNow($0, to: descriptor) }
        guard sent < bytes.readableBytes else { return nil }
        var rest = bytes
        rest.moveReaderIndex(forwardBy: sent)
        return rest
    }

    /// Sends what the socket takes without waiting, and returns how many bytes that was.
    /// On any error it returns 0: NIO's write of the same bytes then meets the error too,
    /// and closes the channel the way it closes any channel that fails.
    private static func sendNow(_ bytes: UnsafeRawBufferPointer, to descriptor: CInt) -> Int {
        while true {
            let sent = Glibc.send(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            if sent >= 0 { return sent }
            if errno == EINTR { continue }
            // A closed or foreign descriptor would mean a slot outlived its socket.
            assert(errno != EBADF && errno != ENOTSOCK, "send(2) to a descriptor that is not a connection's socket")
            return 0
        }
    }
}

/// A subscriber as a fan-out sees it: its connection's slot in its loop's ``LoopSockets``,
/// and the connection, for what cannot go straight to the socket.
struct Subscriber: Sendable {
    let slot: Int32
    let id: UInt64
    let connection: ClientConnection

    init(_ connection: ClientConnection) {
        slot = connection.slot
        id = connection.id
        self.connection = connection
    }
}
