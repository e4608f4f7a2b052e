import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A raw protocol client for tests: sends arbitrary bytes and reads lines with a deadline.
/// Use it through ``with(path:_:)``, which owns the reading task.
public final class LineClient: Sendable {
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let channel: any Channel
    private let inbox = Inbox()
    /// Messages read while looking for another, kept for the next reads.
    private let backlog = Mutex<[String]>([])

    private init(outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, channel: any Channel) {
        self.outbound = outbound
        self.channel = channel
    }

    public static func with<T: Sendable>(path: String, _ body: @Sendable (LineClient) async throws -> T) async throws -> T {
        let asyncChannel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(unixDomainSocketPath: path) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                }
            }
        return try await asyncChannel.executeThenClose { inbound, outbound in
            let client = LineClient(outbound: outbound, channel: asyncChannel.channel)
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        for try await chunk in inbound { client.inbox.append(Array(chunk.readableBytesView)) }
                    } catch {}
                    client.inbox.close()
                }
                defer { group.cancelAll() }
                return try await body(client)
            }
        }
    }

    public func send(_ text: String) async throws {
        try await outbound.write(ByteBuffer(string: text))
    }

    public func send(bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// Sends one JSON-RPC request line.
    public func request(_ id: Int, _ method: String, _ params: String = "{}") async throws {
        try await send("{\"jsonrpc\":\"2.0\",\"id\":\(id),\"method\":\"\(method)\",\"params\":\(params)}\n")
    }

    /// The next message as a JSON object (first from the backlog); nil when the connection
    /// closed or the time ran out.
    public func next(timeout: Duration = .seconds(10)) async throws -> [String: Any]? {
        if let kept = backlog.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { return try Self.parse(kept) }
        guard let line = await inbox.nextLine(timeout: timeout) else { return nil }
        return try Self.parse(line)
    }

    /// The next message as a JSON array (a batch's answer); nil when the connection closed,
    /// the time ran out, or the message is no array.
    public func nextArray(timeout: Duration = .seconds(10)) async throws -> [[String: Any]]? {
        let line: String?
        if let kept = backlog.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) {
            line = kept
        } else {
            line = await inbox.nextLine(timeout: timeout)
        }
        guard let line else { return nil }
        return try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [[String: Any]]
    }

    private static func parse(_ line: String) throws -> [String: Any]? {
        try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
    }

    /// The first message that satisfies `match`, from the backlog or newly read; messages
    /// passed over stay in the backlog, in order.
    public func next(timeout: Duration = .seconds(10), where match: ([String: Any]) -> Bool) async throws -> [String: Any]? {
        let kept = backlog.withLock { $0 }
        for (index, line) in kept.enumerated() {
            if let message = try Self.parse(line), match(message) {
                backlog.withLock { _ = $0.remove(at: index) }
                return message
            }
        }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard let line = await inbox.nextLine(timeout: deadline - ContinuousClock.now) else { return nil }
            if let message = try Self.parse(line), match(message) { return message }
            backlog.withLock { $0.append(line) }
        }
        return nil
    }

    public func nextLine(timeout: Duration = .seconds(10)) async -> String? {
        await inbox.nextLine(timeout: timeout)
    }

    /// Whether the server closed the connection (waits up to `timeout`).
    public func isClosed(timeout: Duration = .seconds(5)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if inbox.isClosed { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    public func close() {
        channel.close(promise: nil)
    }
}

/// Received bytes split into lines, and at most one reader waiting for the next.
final class Inbox: Sendable {
    private struct State {
        var bytes: [UInt8] = []
        var closed = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    var isClosed: Bool { state.withLock { $0.closed } }

    func append(_ chunk: [UInt8]) {
        let waiter = state.withLock { state in
            state.bytes.append(contentsOf: chunk)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func close() {
        let waiter = state.withLock { state in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    private func takeLine() -> (line: String?, closed: Bool) {
        state.withLock { state in
            if let newline = state.bytes.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: state.bytes[..<newline], as: UTF8.self)
                state.bytes.removeSubrange(...newline)
                return (line, false)
            }
            return (nil, state.closed)
        }
    }

    func nextLine(timeout: Duration) async -> String? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (line, closed) = takeLine()
            if let line { return line }
            if closed || ContinuousClock.now >= deadline { return nil }
            let remaining = deadline - ContinuousClock.now
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.waitForData() }
                group.addTask { try? await Task.sleep(for: remaining) }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// Returns when bytes arrive, the connection closes, or the task is cancelled.
    private func waitForData() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.closed || state.bytes.contains(UInt8(ascii: "\n")) || Task.isCancelled { return true }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
