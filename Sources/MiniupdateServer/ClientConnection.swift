import Logging
import NIOCore
import Synchronization

/// One connected client, as the hub and the dispatcher see it: a place to send encoded
/// messages without ever waiting for the client to read them.
///
/// A message goes straight to the socket when NIO holds nothing for it, in one `send(2)`,
/// and a fan-out sends through the loop's ``LoopSockets`` without touching the connection:
/// a client then costs one system call per message, not a walk of NIO's pipeline and its
/// write queue as well. Only what the kernel does not take now is handed to NIO, which
/// sends it when the socket drains; until it has, every later message queues behind it,
/// so the client gets them in order.
///
/// The bytes waiting for the client are counted by NIO against the channel's write-buffer
/// high-water mark, set to ``maximumPendingBytes``: once past it the channel is no longer
/// writable, and the next message disconnects the client rather than let it hold memory or
/// slow anyone else.
final class ClientConnection: Sendable {
    let id: UInt64
    let channel: any Channel
    /// The socket; nil for a channel without one (in tests).
    private let descriptor: CInt?
    /// This connection's slot in ``sockets``, which says whether a message may go
    /// straight to the socket.
    let slot: Int32
    let sockets: NIOLoopBoundBox<LoopSockets>
    let maximumPendingBytes: Int
    let logger: Logger
    /// The peer, from `SO_PEERCRED`; nil if it could not be read.
    let peer: PeerCredentials?
    private let loopState: NIOLoopBoundBox<LoopState>
    /// The apps this connection subscribed to, so a disconnect can remove them.
    let subscriptions = Mutex<Set<String>>([])

    private struct LoopState {
        var closing = false
        /// Between the channel's `channelActive` and `channelInactive`: its socket is open.
        var open = false
        var handler: ConnectionHandler?
        /// Writes handed to NIO and not yet sent: while there are any, sending directly
        /// would overtake them.
        var queuedInNIO = 0
    }

    /// Call on the channel's event loop, before it becomes active; `sockets` is that loop's.
    init(id: UInt64, channel: any Channel, sockets: NIOLoopBoundBox<LoopSockets>, peer: PeerCredentials?, maximumPendingBytes: Int, logger: Logger) throws {
        self.id = id
        self.peer = peer
        self.channel = channel
        self.maximumPendingBytes = maximumPendingBytes
        self.logger = logger
        self.loopState = NIOLoopBoundBox.makeBoxSendingValue(LoopState(), eventLoop: channel.eventLoop)
        let mark = max(maximumPendingBytes, 2)
        try channel.syncOptions?.setOption(.writeBufferWaterMark, value: .init(low: mark / 2, high: mark))
        // Asked for once: asking costs a dynamic cast.
        let descriptor = try channel.pipeline.syncOperations.withUnsafeTransportIfAvailable(of: NIOBSDSocket.Handle.self) { $0 }
        self.descriptor = descriptor
        self.sockets = sockets
        let slot = sockets.value.allocate(owner: id)
        self.slot = slot
        // After the channel's handlers have seen it close: the slot may be reused then.
        channel.closeFuture.whenComplete { _ in sockets.value.release(slot, owner: id) }
        // First in the pipeline, so it hears of the close before any handler runs code.
        try channel.pipeline.syncOperations.addHandler(SocketStateHandler(connection: self), position: .first)
    }

    /// Queues `bytes` (one or more complete lines) for the client, to be sent by a task of
    /// their own on ``eventLoop``. Never inline, even on that loop: a send can close the
    /// channel, and the close removes the connection from the hub, so a caller holding the
    /// hub's lock would take it again.
    func send(_ bytes: ByteBuffer) {
        channel.eventLoop.execute { self.sendOnLoop(bytes, thenClose: false) }
    }

    /// Queues `bytes`, then closes the connection once they are written.
    func sendAndClose(_ bytes: ByteBuffer) {
        channel.eventLoop.execute { self.sendOnLoop(bytes, thenClose: true) }
    }

    /// The event loop this connection's I/O runs on.
    var eventLoop: any EventLoop { channel.eventLoop }

    /// Sends `bytes`; only on ``eventLoop``. A message larger than the bound is still
    /// delivered to a client that has nothing waiting.
    func sendOnLoop(_ bytes: ByteBuffer, thenClose: Bool = false) {
        // NIO may call handlers (`errorCaught`) after it closed the socket and before
        // `channelInactive` clears the slot: what they send must not use it.
        guard channel.isActive else { return }
        if let rest = sockets.value.sendDirect(bytes, slot: slot, owner: id) {
            return sendThroughNIO(rest, thenClose: thenClose)
        }
        if thenClose {
            markClosing()
            channel.close(promise: nil)
        }
    }

    /// Hands `bytes` to NIO, which sends them when the socket drains: for what cannot go
    /// straight to the socket, or what it did not take. Later messages wait behind them.
    func sendThroughNIO(_ bytes: ByteBuffer, thenClose: Bool = false) {
        guard !loopState.value.closing, channel.isActive else { return }
        guard channel.isWritable else {
            logger.warning("disconnecting a client that does not read", metadata: ["client": "\(id)", "limit": "\(maximumPendingBytes)"])
            markClosing()
            channel.close(promise: nil)
            return
        }
        if thenClose { markClosing() }
        loopState.value.queuedInNIO += 1
        refreshSlot()
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenComplete { _ in
            self.loopState.value.queuedInNIO -= 1
            self.refreshSlot()
            if thenClose { self.channel.close(promise: nil) }
        }
        channel.writeAndFlush(bytes, promise: written)
    }

    private func markClosing() {
        loopState.value.closing = true
        refreshSlot()
    }

    /// Puts the socket in ``slot`` exactly while a message may go straight to it: the
    /// channel is active, and nothing waits in NIO or closes the connection. Called after
    /// each change to any of these.
    private func refreshSlot() {
        let state = loopState.value
        let direct = state.open && state.queuedInNIO == 0 && !state.closing && channel.isActive
        sockets.value.setDirect(slot, owner: id, descriptor: direct ? descriptor ?? -1 : -1)
    }

    /// Keeps ``slot`` in step with the socket: open from `channelActive`, closed from
    /// `channelInactive`, which NIO calls in the step in which it closes the socket.
    private final class SocketStateHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let connection: ClientConnection

        init(connection: ClientConnection) {
            self.connection = connection
        }

        func channelActive(context: ChannelHandlerContext) {
            connection.loopState.value.open = true
            connection.refreshSlot()
            context.fireChannelActive()
        }

        func channelInactive(context: ChannelHandlerContext) {
            connection.loopState.value.open = false
            connection.refreshSlot()
            context.fireChannelInactive()
        }
    }

    /// Attaches the handler that serves this connection (nil detaches it, breaking the
    /// reference cycle once the channel is closed); on ``eventLoop``.
    func attach(_ handler: ConnectionHandler?) {
        loopState.value.handler = handler
    }

    /// Tells the connection's handler that `work` is done with: any response it sent is
    /// queued before the handler takes the next request.
    func finished(_ work: ConnectionHandler.Work) {
        channel.eventLoop.execute { self.loopState.value.handler?.finished(work) }
    }

    func close() {
        channel.close(promise: nil)
    }
}
