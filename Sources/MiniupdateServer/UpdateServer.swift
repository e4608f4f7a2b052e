#if canImport(Glibc)
import Glibc
#endif
import Logging
import MiniupdateEngine
import MiniupdateProtocol
import MiniupdateRepository
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The daemon's socket front end: accepts clients on a Unix socket and serves protocol v1
/// over the engine. It only translates; every decision is the engine's.
public final class UpdateServer: Sendable {
    public typealias Listener = NIOAsyncChannel<AcceptedClient, Never>

    /// A client connection as accepted: its channel, and its credentials read at accept
    /// time, while the socket is surely open (a client may send a request and close at
    /// once; its credentials must still be known when the request is authorized).
    public struct AcceptedClient: Sendable {
        let channel: NIOAsyncChannel<RequestLineHandler.ParsedLine, ByteBuffer>
        let connection: ClientConnection
        /// False when ``ServerOptions/maximumConnections`` clients were already connected.
        let admitted: Bool
    }

    let engine: UpdateEngine
    let options: ServerOptions
    let logger: Logger
    let hub = SubscriptionHub()
    let dispatcher: RequestDispatcher
    /// Subscribed at once, so no event between start-up and ``forwardEvents()`` is lost.
    private let engineEvents: EngineEvents
    private let nextConnectionID = Atomic<UInt64>(0)

    public init(engine: UpdateEngine, options: ServerOptions = ServerOptions(), daemonVersion: String, logger: Logger) {
        self.engine = engine
        self.options = options
        self.logger = logger
        self.dispatcher = RequestDispatcher(
            engine: engine, hub: hub, statusCache: StatusCache(), options: options, daemonVersion: daemonVersion,
            logger: logger, accessPolicy: AccessPolicyBox(options.accessPolicy)
        )
        self.engineEvents = engine.events()
    }

    /// Binds `path`. A socket file left by a dead daemon is replaced; a live daemon on the
    /// same path is never displaced: binding fails with a clear message instead.
    public func bind(path: String, mode: mode_t = 0o660) async throws -> Listener {
        try await SocketPath.prepare(path)
        hub.seed(from: await engine.status())
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 1024)
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: false, childChannelInitializer: childInitializer)
        guard chmod(path, mode) == 0 else {
            throw UpdateError(.io, "chmod \(path): \(String(cString: strerror(errno)))")
        }
        return listener
    }

    /// Adopts a socket that is already bound and listening (socket activation). Its path
    /// belongs to whoever bound it and is never unlinked here.
    public func adopt(descriptor: CInt) async throws -> Listener {
        hub.seed(from: await engine.status())
        return try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(descriptor, cleanupExistingSocketFile: false, childChannelInitializer: childInitializer)
    }

    private var childInitializer: @Sendable (any Channel) -> EventLoopFuture<AcceptedClient> {
        { channel in
            PeerCredentials.of(channel).flatMapThrowing { peer in
                let id = self.nextConnectionID.wrappingAdd(1, ordering: .relaxed).newValue
                let connection = try ClientConnection(id: id, channel: channel, peer: peer, maximumPendingBytes: self.options.maximumPendingBytes, logger: self.logger)
                // Admitted before any of its lines is read: a client over the limit is never
                // served, not even from the status cache.
                let admitted = self.hub.admit(connection, limit: self.options.maximumConnections)
                do {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(LineFrameDecoder(maximumLength: self.options.maximumLineLength)),
                        RequestLineHandler(connection: connection, dispatcher: self.dispatcher, admitted: admitted)
                    )
                    let asyncChannel = try NIOAsyncChannel<RequestLineHandler.ParsedLine, ByteBuffer>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(isOutboundHalfClosureEnabled: true)
                    )
                    return AcceptedClient(channel: asyncChannel, connection: connection, admitted: admitted)
                } catch {
                    if admitted { self.hub.remove(connection) }
                    throw error
                }
            }
        }
    }

    /// Serves `listener` until graceful shutdown (or cancellation): then stops accepting,
    /// tells every client `onDaemonStopping`, and closes their connections.
    public func serve(_ listener: Listener) async throws {
        try await withGracefulShutdownHandler {
            try await listener.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in inbound {
                        group.addTask { await self.handle(connection) }
                    }
                    // Accepting stopped: end every connection so the group can finish.
                    self.hub.closeAll(sending: encodeLine(RPCNotification(method: Notification.onDaemonStopping, params: Empty())))
                }
            }
        } onGracefulShutdown: {
            listener.channel.close(promise: nil)
        }
    }

    /// Delivers engine events to subscribers until the engine stops.
    public func forwardEvents() async {
        for await batch in engineEvents.batches {
            hub.publish(batch)
        }
    }

    private func handle(_ accepted: AcceptedClient) async {
        let asyncChannel = accepted.channel
        let connection = accepted.connection
        let id = connection.id
        guard accepted.admitted else {
            logger.warning("refusing a client: \(options.maximumConnections) connections already")
            connection.close()
            return
        }
        defer { hub.remove(connection) }
        let inFlight = RequestCounter()
        do {
            try await asyncChannel.executeThenClose { inbound, _ in
                await withDiscardingTaskGroup { group in
                    do {
                        for try await line in inbound {
                            await process(line, connection: connection, inFlight: inFlight, group: &group)
                            connection.requestDone()
                        }
                    } catch is LineFrameDecoder.LineTooLongError {
                        let error = RPCError(code: RPCErrorCode.invalidRequest, message: "request line longer than \(options.maximumLineLength) bytes")
                        connection.sendAndClose(ByteBuffer(bytes: encodeLine(RPCErrorResponse(id: nil, error: error))))
                    } catch {
                        logger.debug("client \(id) read failed: \(error)")
                    }
                    // The client is gone or done. Requests it started still finish (an install
                    // must not stop half-way because a terminal closed); their responses are
                    // dropped. The group waits for them, bounded by the in-flight limit.
                }
                await connection.flushed()
            }
        } catch {
            logger.debug("client \(id) closed: \(error)")
        }
    }

    private func process(_ line: RequestLineHandler.ParsedLine, connection: ClientConnection, inFlight: RequestCounter, group: inout DiscardingTaskGroup) async {
        switch line {
        case .failure(let response):
            connection.send(ByteBuffer(bytes: encodeLine(response)))
        case .success(let request):
            if request.isSlow {
                guard inFlight.count.wrappingAdd(1, ordering: .relaxed).newValue <= options.maximumRequestsInFlight else {
                    inFlight.count.wrappingSubtract(1, ordering: .relaxed)
                    if let id = request.id {
                        let error = RPCError(reason: "busy", message: "more than \(options.maximumRequestsInFlight) requests in flight on this connection")
                        connection.send(ByteBuffer(bytes: encodeLine(RPCErrorResponse(id: id, error: error))))
                    }
                    return
                }
                let dispatcher = self.dispatcher
                group.addTask {
                    if let response = await dispatcher.handle(request, from: connection) {
                        connection.send(ByteBuffer(bytes: response))
                    }
                    inFlight.count.wrappingSubtract(1, ordering: .relaxed)
                }
            } else if let response = await dispatcher.handle(request, from: connection) {
                connection.send(ByteBuffer(bytes: response))
            }
        }
    }

    /// Replaces the access policy (on reload); connections stay.
    public func setAccessPolicy(_ policy: AccessPolicy?) {
        dispatcher.accessPolicy.replace(with: policy)
    }

    /// The number of connected clients.
    public var clientCount: Int { hub.connectionCount }
}

/// Requests in flight on one connection.
final class RequestCounter: Sendable {
    let count = Atomic<Int>(0)
}

enum SocketPath {
    /// Makes `path` bindable: creates its directory, replaces a stale socket file, and
    /// refuses when a live daemon answers on it or when it is not a socket.
    static func prepare(_ path: String) async throws {
        let directory = FileSystem.parentPath(path)
        try FileSystem.createDirectory(directory)
        switch FileSystem.kind(at: path) {
        case nil:
            return
        case .other?:
            break
        default:
            throw UpdateError(.invalidArgument, "\(path) exists and is not a socket; refusing to replace it")
        }
        let live = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(unixDomainSocketPath: path).get()
        if let live {
            try? await live.close()
            throw UpdateError(.invalidArgument, "another miniupdated is already serving \(path)")
        }
        guard unlink(path) == 0 || errno == ENOENT else {
            throw UpdateError(.io, "remove stale socket \(path): \(String(cString: strerror(errno)))")
        }
    }
}
