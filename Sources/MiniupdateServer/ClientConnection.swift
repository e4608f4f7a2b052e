import Logging
import NIOCore
import Synchronization

/// One connected client, as the hub and the dispatcher see it: a place to send encoded
/// messages without ever waiting for the client to read them.
///
/// The bytes waiting for the client are counted by NIO against the channel's write-buffer
/// high-water mark, set to ``maximumPendingBytes``: once past it the channel is no longer
/// writable, and the next message disconnects the client rather than let it hold memory or
/// slow anyone else. Writes carry no promise: a fan-out to thousands of clients allocates
/// nothing per client but the shared buffer's reference.
final class ClientConnection: Sendable {
    let id: UInt64
    let channel: any Channel
    let maximumPendingBytes: Int
    let logger: Logger
    /// The peer, from `SO_PEERCRED`; nil if it could not be read.
    let peer: PeerCredentials?
    private let loopState: NIOLoopBoundBox<LoopState>
    /// The apps this connection subscribed to, so a disconnect can remove them.
    let subscriptions = Mutex<Set<String>>([])

    private struct LoopState {
        var closing = false
        var handler: ConnectionHandler?
    }

    /// Call on the channel's event loop, before it becomes active.
    init(id: UInt64, channel: any Channel, peer: PeerCredentials?, maximumPendingBytes: Int, logger: Logger) throws {
        self.id = id
        self.peer = peer
        self.channel = channel
        self.maximumPendingBytes = maximumPendingBytes
        self.logger = logger
        self.loopState = NIOLoopBoundBox.makeBoxSendingValue(LoopState(), eventLoop: channel.eventLoop)
        let mark = max(maximumPendingBytes, 2)
        try channel.syncOptions?.setOption(.writeBufferWaterMark, value: .init(low: mark / 2, high: mark))
    }

    /// Queues `bytes` (one or more complete lines) for the client.
    func send(_ bytes: ByteBuffer) {
        if channel.eventLoop.inEventLoop {
            sendOnLoop(bytes, thenClose: false)
        } else {
            channel.eventLoop.execute { self.sendOnLoop(bytes, thenClose: false) }
        }
    }

    /// Queues `bytes`, then closes the connection once they are written.
    func sendAndClose(_ bytes: ByteBuffer) {
        channel.eventLoop.execute { self.sendOnLoop(bytes, thenClose: true) }
    }

    /// The event loop this connection's I/O runs on.
    var eventLoop: any EventLoop { channel.eventLoop }

    /// Queues `bytes`; only on ``eventLoop``. A message larger than the bound is still
    /// delivered to a client that has nothing waiting.
    func sendOnLoop(_ bytes: ByteBuffer, thenClose: Bool = false) {
        guard !loopState.value.closing, channel.isActive else { return }
        guard channel.isWritable else {
            logger.warning("disconnecting a client that does not read", metadata: ["client": "\(id)", "limit": "\(maximumPendingBytes)"])
            loopState.value.closing = true
            channel.close(promise: nil)
            return
        }
        guard thenClose else {
            channel.writeAndFlush(bytes, promise: nil)
            return
        }
        loopState.value.closing = true
        channel.writeAndFlush(bytes).whenComplete { _ in self.channel.close(promise: nil) }
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
