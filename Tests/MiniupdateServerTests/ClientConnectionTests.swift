import Foundation
import Logging
@testable import MiniupdateServer
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
        let first = try SocketPair(), second = try SocketPair()
        let gone = try await first.connection(id: 1, on: loop, sockets: sockets)
        let stale = Subscriber(gone)
        gone.close()
        try await gone.channel.closeFuture.get()
        // Its slot is freed once the close is done with; the next connection takes it, and
        // (in tests, on a socket pair) may even be given the same descriptor number.
        try await loop.submit {}.get()
        let taker = try await second.connection(id: 2, on: loop, sockets: sockets)
        defer { taker.close() }
        #expect(taker.slot == stale.slot)
        try await loop.submit { sockets.value.send(ByteBuffer(bytes: Self.line(0, length: 100)), to: [stale]) }.get()
        let marker = Self.line(1, length: 100)
        try await loop.submit { taker.sendOnLoop(ByteBuffer(bytes: marker)) }.get()
        #expect(try second.read(count: marker.count) == marker)
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
