import Logging
import NIOCore
import Synchronization

/// One connected client, as the hub and the dispatcher see it: a place to send encoded
/// messages without ever waiting for the client to read them.
///
/// Every send is accounted on the channel's event loop; when the bytes waiting for the
/// client exceed the bound, the client is disconnected rather than allowed to hold memory
/// or slow anyone else.
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
        var pendingBytes = 0
        var closing = false
        var lastWrite: EventLoopFuture<Void>?
        /// Requests handed to the connection's task and not yet done with.
        var requestsPending = 0
    }

    init(id: UInt64, channel: any Channel, peer: PeerCredentials?, maximumPendingBytes: Int, logger: Logger) {
        self.id = id
        self.peer = peer
        self.channel = channel
        self.maximumPendingBytes = maximumPendingBytes
        self.logger = logger
        self.loopState = NIOLoopBoundBox.makeBoxSendingValue(LoopState(), eventLoop: channel.eventLoop)
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

    /// Queues `bytes`; only on ``eventLoop``.
    func sendOnLoop(_ bytes: ByteBuffer, thenClose: Bool = false) {
        var state = loopState.value
        guard !state.closing else { return }
        let size = bytes.readableBytes
        if state.pendingBytes > 0, state.pendingBytes + size > maximumPendingBytes {
            logger.warning("disconnecting a client that does not read", metadata: ["client": "\(id)", "pending": "\(state.pendingBytes)"])
            state.closing = true
            loopState.value = state
            channel.close(promise: nil)
            return
        }
        state.pendingBytes += size
        let write = channel.writeAndFlush(bytes)
        state.lastWrite = write
        if thenClose { state.closing = true }
        loopState.value = state
        write.whenComplete { _ in
            self.loopState.value.pendingBytes -= size
            if thenClose { self.channel.close(promise: nil) }
        }
    }

    /// Counts a request handed to the connection's task; only on ``eventLoop``.
    func requestForwardedOnLoop() {
        loopState.value.requestsPending += 1
    }

    /// Whether a request handed to the task has not yet been answered (or, if slow,
    /// started); only on ``eventLoop``.
    var hasRequestsPendingOnLoop: Bool { loopState.value.requestsPending > 0 }

    /// Marks the oldest forwarded request as done with: answered, or started if it runs
    /// beside later ones. Any response it sent is queued before this takes effect.
    func requestDone() {
        channel.eventLoop.execute { self.loopState.value.requestsPending -= 1 }
    }

    /// Completes when everything queued so far has been written (or failed).
    func flushed() async {
        let future = channel.eventLoop.flatSubmit { () -> EventLoopFuture<Void> in
            self.loopState.value.lastWrite?.flatMapErrorWithEventLoop { _, loop in loop.makeSucceededVoidFuture() }
                ?? self.channel.eventLoop.makeSucceededVoidFuture()
        }
        try? await future.get()
    }

    func close() {
        channel.close(promise: nil)
    }
}
