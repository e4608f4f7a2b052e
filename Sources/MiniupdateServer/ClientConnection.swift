#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import Synchronization

/// One connected client, as the hub and the dispatcher see it: a place to send encoded
/// messages without ever waiting for the client to read them.
///
/// A message goes straight to the socket when NIO holds nothing for it, in one `send(2)`:
/// a fan-out to thousands of clients then costs each client one system call, not a walk of
/// NIO's pipeline and its write queue as well. Only what the kernel does not take now is
/// handed to NIO, which sends it when the socket drains; until it has, every later message
/// queues behind it, so the client gets them in order.
///
/// The bytes waiting for the client are counted by NIO against the channel's write-buffer
/// high-water mark, set to ``maximumPendingBytes``: once past it the channel is no longer
/// writable, and the next message disconnects the client rather than let it hold memory or
/// slow anyone else.
final class ClientConnection: Sendable {
    let id: UInt64
    let channel: any Channel
    /// The socket, while ``channel`` is active; nil for a channel without one (in tests).
    ///
    /// Kept rather than asked for per message, which would cost a dynamic cast each time.
    /// It is used only on the event loop and only while the channel is active: NIO closes
    /// the socket on the loop in the same step that makes the channel inactive, so it can
    /// never name another file by then.
    private let descriptor: CInt?
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
        /// Writes handed to NIO and not yet sent: while there are any, sending directly
        /// would overtake them.
        var queuedInNIO = 0
    }

    /// Call on the channel's event loop, before it becomes active.
    init(id: UInt64, channel: any Channel, peer: PeerCredentials?, maximumPendingBytes: Int, logger: Logger) throws {
        self.id = id
        self.peer = peer
        self.channel = channel
        self.maximumPendingBytes = maximumPendingBytes
        self.logger = logger
        self.loopState = NIOLoopBoundBox.makeBoxSendingValue(LoopState(), eventLoop: channel.eventLoop)
        self.descriptor = try channel.pipeline.syncOperations.withUnsafeTransportIfAvailable(of: NIOBSDSocket.Handle.self) { $0 }
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

    /// Sends `bytes`; only on ``eventLoop``. A message larger than the bound is still
    /// delivered to a client that has nothing waiting.
    func sendOnLoop(_ bytes: ByteBuffer, thenClose: Bool = false) {
        guard !loopState.value.closing, channel.isActive else { return }
        var bytes = bytes
        if let descriptor, loopState.value.queuedInNIO == 0 {
            bytes.moveReaderIndex(forwardBy: Self.sendNow(bytes, to: descriptor))
            if bytes.readableBytes == 0 {
                if thenClose {
                    loopState.value.closing = true
                    channel.close(promise: nil)
                }
                return
            }
        }
        guard channel.isWritable else {
            logger.warning("disconnecting a client that does not read", metadata: ["client": "\(id)", "limit": "\(maximumPendingBytes)"])
            loopState.value.closing = true
            channel.close(promise: nil)
            return
        }
        if thenClose { loopState.value.closing = true }
        loopState.value.queuedInNIO += 1
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenComplete { _ in
            self.loopState.value.queuedInNIO -= 1
            if thenClose { self.channel.close(promise: nil) }
        }
        channel.writeAndFlush(bytes, promise: written)
    }

    /// Sends what the socket takes without waiting, and returns how many bytes that was.
    /// On any error it returns 0: NIO's write of the same bytes then meets the error too,
    /// and closes the channel the way it closes any channel that fails.
    private static func sendNow(_ bytes: ByteBuffer, to descriptor: CInt) -> Int {
        bytes.withUnsafeReadableBytes { raw in
            while true {
                let sent = Glibc.send(descriptor, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
                if sent >= 0 { return sent }
                if errno != EINTR { return 0 }
            }
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
