import Foundation
import Logging
@testable import MiniupdateServer
import MiniupdateTestSupport
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// A connection sends straight to its socket while NIO holds nothing for it, and through
/// NIO once the socket is full: these drive both paths on a real socket pair and check that
/// the client gets every byte, in order.
@Suite struct ClientConnectionTests {
    @Test func messagesKeepTheirOrderWhenTheSocketFillsAndDrains() async throws {
        let pair = try SocketPair()
        let connection = try await pair.connection()
        defer { connection.close() }
        // Far more than the socket holds while the peer does not read: the first lines go
        // straight to the socket, the rest wait in NIO. The peer then reads them all.
        let first = (0..<600).map { Self.line($0, length: 4096) }
        try await connection.eventLoop.submit { first.forEach { connection.sendOnLoop(ByteBuffer(bytes: $0)) } }.get()
        #expect(try pair.read(count: first.joined().count) == Array(first.joined()))

        // Once NIO has sent what it held, lines go straight to the socket again: interleaved
        // with the sends of the first batch's tail, they would arrive out of order.
        let second = (600..<1200).map { Self.line($0, length: 4096) }
        for line in second { connection.send(ByteBuffer(bytes: line)) }
        #expect(try pair.read(count: second.joined().count) == Array(second.joined()))
    }

    @Test func aMessageLargerThanTheSocketHoldsArrivesWhole() async throws {
        let pair = try SocketPair()
        let connection = try await pair.connection()
        defer { connection.close() }
        // The socket takes part of it at once and NIO the rest; the next line waits behind it.
        let large = Self.line(0, length: 4 << 20)
        let next = Self.line(1, length: 100)
        try await connection.eventLoop.submit {
            connection.sendOnLoop(ByteBuffer(bytes: large))
            connection.sendOnLoop(ByteBuffer(bytes: next))
        }.get()
        #expect(try pair.read(count: large.count + next.count) == large + next)
    }

    @Test func sendsInterleavedWithASlowReaderArriveInOrder() async throws {
        let pair = try SocketPair()
        let connection = try await pair.connection()
        defer { connection.close() }
        // Each message a task of its own, alternately fan-out and response, while the peer
        // reads slowly: the socket fills and drains many times, and both paths switch
        // between the socket and NIO's queue as it does.
        let lines = (0..<3000).map { Self.line($0, length: 1000) }
        let expected = Array(lines.joined())
        async let received = pair.readSlowly(count: expected.count)
        for (number, line) in lines.enumerated() {
            connection.eventLoop.execute {
                if number % 2 == 0 {
                    connection.sockets.value.send(ByteBuffer(bytes: line), to: [Subscriber(connection)])
                } else {
                    connection.sendOnLoop(ByteBuffer(bytes: line))
                }
            }
        }
        #expect(try await received == expected)
    }

    @Test func theSlotFollowsTheSocket() async throws {
        let pair = try SocketPair()
        let connection = try await pair.connection()
        let slot: @Sendable () -> CInt = { connection.sockets.value.direct(connection.slot, owner: connection.id) }
        try await connection.eventLoop.submit {
            // Active, nothing queued: straight to the socket.
            #expect(slot() >= 0)
            // More than the socket holds: the rest waits in NIO, and so must later messages.
            connection.sendOnLoop(ByteBuffer(bytes: Self.line(0, length: 4 << 20)))
            #expect(slot() == -1)
        }.get()
        _ = try pair.read(count: 4 << 20)
        // Drained: straight to the socket again.
        try await waitUntil { (try? await connection.eventLoop.submit { slot() >= 0 }.get()) ?? false }
        try await connection.eventLoop.submit {
            connection.close()
            // In the same step as the socket's close, before the slot is released.
            #expect(slot() == -1)
        }.get()
    }

    @Test func aConnectionThatIsClosedSendsNothingMore() async throws {
        let pair = try SocketPair()
        let connection = try await pair.connection()
        let line = Self.line(0, length: 100)
        try await connection.eventLoop.submit {
            connection.sendOnLoop(ByteBuffer(bytes: line), thenClose: true)
            // After the close, nothing: not to this socket, nor to whatever reuses its number.
            connection.sendOnLoop(ByteBuffer(bytes: Self.line(1, length: 100)))
        }.get()
        try await connection.channel.closeFuture.get()
        #expect(try pair.read(count: line.count + 1, untilClosed: true) == line)
    }

    @Test func aFanOutKeepsOrderWithTheConnectionsOwnMessages() async throws {
        let pair = try SocketPair()
        let connection = try await pair.connection()
        defer { connection.close() }
        // Events through the loop's table and responses through the connection, while the
        // socket fills: they arrive in the order they were sent.
        let lines = (0..<600).map { Self.line($0, length: 4096) }
        try await connection.eventLoop.submit {
            for (number, line) in lines.enumerated() {
                if number % 2 == 0 {
                    connection.sockets.value.send(ByteBuffer(bytes: line), to: [Subscriber(connection)])
                } else {
                    connection.sendOnLoop(ByteBuffer(bytes: line))
                }
            }
        }.get()
        #expect(try pair.read(count: lines.joined().count) == Array(lines.joined()))
        // Drained, the table lets events go straight to the socket again, after the rest.
        let after = Self.line(600, length: 100)
        try await connection.eventLoop.submit {
            connection.sockets.value.send(ByteBuffer(bytes: after), to: [Subscriber(connection)])
        }.get()
        #expect(try pair.read(count: after.count) == after)
    }

    @Test func aFanOutQueuedForAClosedConnectionNeverReachesTheOneThatTookItsSlot() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let sockets = try await loop.submit { NIOLoopBoundBox.makeBoxSendingValue(LoopSockets(), eventLoop: loop) }.get()
        let first = try SocketPair()
        let gone = try await first.connection(id: 1, on: loop, sockets: sockets)
        let stale = Subscriber(gone)
        gone.close()
        try await gone.channel.closeFuture.get()
        // Its slot is freed with the close; the next connection takes it, and may even be
        // given the same descriptor number.
        let second = try SocketPair()
        let taker = try await second.connection(id: 2, on: loop, sockets: sockets)
        defer { taker.close() }
        #expect(taker.slot == stale.slot)
        try await loop.submit { sockets.value.send(ByteBuffer(bytes: Self.line(0, length: 100)), to: [stale]) }.get()
        let marker = Self.line(1, length: 100)
        try await loop.submit { taker.sendOnLoop(ByteBuffer(bytes: marker)) }.get()
        #expect(try second.read(count: marker.count) == marker)
    }

    @Test func aSubscribeWhoseSendClosesTheConnectionLeavesTheHubUsable() async throws {
        // A loop of its own: were the hub's lock taken twice, only this loop would stall.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let hub = SubscriptionHub()
        let pair = try SocketPair()
        let connection = try await pair.connection(on: loop)
        // As the connection's handler does: its close removes it from the hub.
        try await loop.submit { try connection.channel.pipeline.syncOperations.addHandler(RemoveOnClose(hub: hub, connection: connection)) }.get()
        #expect(hub.admit(connection, limit: 10))
        // The peer is gone: the next send fails with EPIPE, and NIO closes the channel.
        shutdown(pair.peer, Int32(SHUT_RDWR))
        // A subscribe run on the connection's own loop, as the daemon's tasks run.
        let subscribed = loop.submit { hub.subscribe(connection, to: "com.example.app", response: Self.line(0, length: 100)) }
        let finished = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let once = ResumeOnce(continuation)
            subscribed.whenComplete { _ in once.resume(true) }
            DispatchQueue.global().asyncAfter(deadline: .now() + 10) { once.resume(false) }
        }
        #expect(finished)
        if finished {
            try await connection.channel.closeFuture.get()
            #expect(hub.connectionCount == 0)
            try await group.shutdownGracefully()
        }
    }

    /// Line `number`, `length` bytes with its newline, each line different from its
    /// neighbours so that a reordering shows.
    static func line(_ number: Int, length: Int) -> [UInt8] {
        let prefix = Array("\(number):".utf8)
        return prefix + [UInt8](repeating: UInt8(ascii: "a") + UInt8(number % 26), count: length - prefix.count - 1) + [0x0a]
    }
}

/// A connected pair of Unix stream sockets: one end served by NIO as a ``ClientConnection``,
/// the other read here with blocking calls.
private final class SocketPair: Sendable {
    let served: CInt
    let peer: CInt

    init() throws {
        var descriptors: [CInt] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &descriptors) == 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        (served, peer) = (descriptors[0], descriptors[1])
        // A lost message fails the test instead of hanging it.
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(peer, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { Glibc.close(peer) }

    /// A connection on ``served``, made on its event loop before the channel is active, as
    /// the server makes its connections. Connections that share `sockets` must share `loop`.
    func connection(
        id: UInt64 = 1, on loop: (any EventLoop)? = nil, sockets: NIOLoopBoundBox<LoopSockets>? = nil
    ) async throws -> ClientConnection {
        let made = Mutex<ClientConnection?>(nil)
        _ = try await ClientBootstrap(group: loop ?? MultiThreadedEventLoopGroup.singleton.next())
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sockets = sockets ?? NIOLoopBoundBox.makeBoxSendingValue(LoopSockets(), eventLoop: channel.eventLoop)
                    let connection = try ClientConnection(
                        id: id, channel: channel, sockets: sockets, peer: nil, maximumPendingBytes: 64 << 20, logger: Logger(label: "test")
                    )
                    made.withLock { $0 = connection }
                }
            }
            .withConnectedSocket(served).get()
        return try #require(made.withLock { $0 })
    }

    /// Reads `count` bytes, 4 KiB at a time with a pause between reads, on a thread of its own.
    func readSlowly(count: Int) async throws -> [UInt8] {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result {
                    var received: [UInt8] = []
                    while received.count < count {
                        received += try self.read(count: min(4096, count - received.count))
                        usleep(200)
                    }
                    return received
                })
            }.start()
        }
    }

    /// Reads until `count` bytes came (or, with `untilClosed`, until the end of the stream).
    func read(count: Int, untilClosed: Bool = false) throws -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while received.count < count {
            let got = recv(peer, &buffer, buffer.count, 0)
            if got == 0, untilClosed { break }
            guard got > 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .ECONNRESET) }
            received += buffer[..<got]
        }
        return received
    }
}

/// Removes its connection from the hub when the channel closes, as `ConnectionHandler` does.
private final class RemoveOnClose: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let hub: SubscriptionHub
    let connection: ClientConnection

    init(hub: SubscriptionHub, connection: ClientConnection) {
        self.hub = hub
        self.connection = connection
    }

    func channelInactive(context: ChannelHandlerContext) {
        hub.remove(connection)
        context.fireChannelInactive()
    }
}

/// Resumes a continuation with the first value it is given.
private final class ResumeOnce: Sendable {
    private let continuation: Mutex<CheckedContinuation<Bool, Never>?>

    init(_ continuation: CheckedContinuation<Bool, Never>) {
        self.continuation = Mutex(continuation)
    }

    func resume(_ value: Bool) {
        continuation.withLock { $0.take() }?.resume(returning: value)
    }
}
