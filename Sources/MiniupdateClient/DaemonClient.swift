#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import MiniupdateProtocol
import NIOCore
import NIOPosix
import Synchronization

/// Why a call to the daemon did not return a result.
public enum DaemonClientError: Error, Sendable, CustomStringConvertible {
    /// The daemon could not be reached at `path`; `errno` is the connect's error, when
    /// one was reported (`ENOENT`, `ECONNREFUSED`, `EACCES`…).
    case unreachable(path: String, reason: String, errno: Int32? = nil)
    /// The connection closed before the response arrived.
    case disconnected
    /// The daemon answered with an error.
    case rpc(RPCError)
    /// The daemon sent something this client cannot read.
    case malformedResponse(String)

    /// A sentence for people, such as
    /// `cannot reach miniupdated at /run/…: No such file or directory`.
    public var description: String {
        switch self {
        case .unreachable(let path, let reason, _): "cannot reach miniupdated at \(path): \(reason)"
        case .disconnected: "the connection to miniupdated closed"
        case .rpc(let error): error.description
        case .malformedResponse(let why): "malformed response from miniupdated: \(why)"
        }
    }
}

/// A notification from the daemon: its method, the event it decodes to, and the raw line.
public struct DaemonNotification: Sendable {
    /// The notification's method, such as `onUpdateReady`.
    public var method: String
    /// Nil for a method this version does not know (clients ignore those), or params
    /// that do not decode.
    public var event: DaemonEvent?
    /// The notification exactly as the daemon sent it, without its newline.
    public var line: [UInt8]
}

/// One connection to `miniupdated`: requests with responses matched by id, and the stream
/// of notifications.
///
/// Use it inside ``withConnection(socketPath:_:)``, which owns the reading task and closes
/// the connection when the body returns.
public final class DaemonClient: Sendable {
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let pending = Mutex<State>(State())
    private let nextID = Atomic<Int64>(0)
    /// Every notification, in the order the daemon sent them. App events come only for
    /// apps this connection subscribes to (`Method.Subscribe`); the stream ends when the
    /// connection closes. Iterate it from one task.
    public let notifications: AsyncStream<DaemonNotification>
    private let notificationSink: AsyncStream<DaemonNotification>.Continuation

    private struct State {
        var waiting: [Int64: ResponseSlot] = [:]
        var closed = false
    }

    /// The socket path clients use: `MINIUPDATE_SOCKET` when set and not empty, or else
    /// `/run/miniupdate/miniupdate.sock`.
    public static var defaultSocketPath: String {
        if let value = getenv(WireProtocol.socketEnvironmentVariable), value.pointee != 0 {
            return String(cString: value)
        }
        return WireProtocol.defaultSocketPath
    }

    private init(outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.outbound = outbound
        (notifications, notificationSink) = AsyncStream.makeStream(of: DaemonNotification.self)
    }

    /// Connects to the daemon, runs `body`, and closes the connection.
    ///
    /// ```swift
    /// try await DaemonClient.withConnection { client in
    ///     let result = try await client.call(Method.Install(app: "com.example.weather"))
    ///     print(result.version)
    /// }
    /// ```
    ///
    /// Throws ``DaemonClientError/unreachable(path:reason:errno:)`` when the socket cannot
    /// be connected to, and whatever `body` throws.
    public static func withConnection<Result: Sendable>(
        socketPath: String = DaemonClient.defaultSocketPath,
        _ body: @Sendable (DaemonClient) async throws -> Result
    ) async throws -> Result {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(unixDomainSocketPath: socketPath) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maximumLength: 64 << 20)))
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                    }
                }
        } catch let error as IOError {
            throw DaemonClientError.unreachable(path: socketPath, reason: String(cString: strerror(error.errnoCode)), errno: error.errnoCode)
        } catch {
            throw DaemonClientError.unreachable(path: socketPath, reason: "\(error)")
        }
        return try await channel.executeThenClose { inbound, outbound in
            let client = DaemonClient(outbound: outbound)
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await client.read(inbound) }
                defer { group.cancelAll() }
                return try await body(client)
            }
        }
    }

    private func read(_ inbound: NIOAsyncChannelInboundStream<ByteBuffer>) async {
        do {
            for try await buffer in inbound {
                route(Array(buffer.readableBytesView))
            }
        } catch {}
        let waiting = pending.withLock { state in
            state.closed = true
            defer { state.waiting.removeAll() }
            return Array(state.waiting.values)
        }
        for waiter in waiting { waiter.complete(.failure(DaemonClientError.disconnected)) }
        notificationSink.finish()
    }

    private func route(_ line: [UInt8]) {
        switch DaemonMessage(line: line) {
        case .notification(let method, let event, let line)?:
            notificationSink.yield(DaemonNotification(method: method, event: event, line: line))
        case .response(.number(let id)?, let line)?:
            pending.withLock { $0.waiting.removeValue(forKey: id) }?.complete(.success(line))
        case .response?, .batchResponse?, nil:
            // Not an answer to this client's requests, which are numbered and never batched.
            break
        }
    }

    /// Sends a request of `Method` and waits for its result.
    ///
    /// ```swift
    /// let status = try await client.call(Method.Status())
    /// ```
    ///
    /// `Method` and the result types are in `MiniupdateProtocol`. Throws
    /// ``DaemonClientError/rpc(_:)`` when the daemon refuses the request (its
    /// `RPCError.reason` is the code, such as `no-update-ready` or `not-permitted`),
    /// ``DaemonClientError/disconnected`` when the connection closes first, and
    /// ``DaemonClientError/malformedResponse(_:)`` for a result that does not decode. It
    /// waits until the response arrives or the connection closes; cancelling the calling
    /// task does not end the wait.
    public func call<Request: RPCMethod>(_ request: Request) async throws -> Request.Result {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).newValue
        let response = ResponseSlot()
        let registered = pending.withLock { state in
            guard !state.closed else { return false }
            state.waiting[id] = response
            return true
        }
        guard registered else { throw DaemonClientError.disconnected }
        do {
            try await outbound.write(ByteBuffer(bytes: encodeLine(RPCRequest(id: .number(id), request))))
        } catch {
            _ = pending.withLock { $0.waiting.removeValue(forKey: id) }
            throw DaemonClientError.disconnected
        }
        let line = try await response.value()
        if let error = try? JSONDecoder().decode(RPCErrorResponse.self, from: Data(line)) {
            throw DaemonClientError.rpc(error.error)
        }
        do {
            return try JSONDecoder().decode(RPCResponse<Request.Result>.self, from: Data(line)).result
        } catch {
            throw DaemonClientError.malformedResponse("\(error)")
        }
    }
}

/// Where a response lands; it may arrive before anyone waits for it.
final class ResponseSlot: Sendable {
    private struct State {
        var result: Result<[UInt8], any Error>?
        var waiter: CheckedContinuation<[UInt8], any Error>?
    }

    private let state = Mutex(State())

    func complete(_ result: Result<[UInt8], any Error>) {
        let waiter = state.withLock { state -> CheckedContinuation<[UInt8], any Error>? in
            guard state.result == nil else { return nil }
            state.result = result
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(with: result)
    }

    func value() async throws -> [UInt8] {
        try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLock { state -> Result<[UInt8], any Error>? in
                if let result = state.result { return result }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}
