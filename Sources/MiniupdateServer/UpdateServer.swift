#if canImport(Glibc)
import Glibc
#endif
import Logging
import MiniupdateCore
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
    /// A bound, listening socket, from ``bind(path:mode:)`` or ``adopt(descriptor:)``, for
    /// ``serve(_:)``.
    public typealias Listener = NIOAsyncChannel<AcceptedClient, Never>

    /// A client connection as accepted: its channel, and its credentials read at accept
    /// time, while the socket is surely open (a client may send a request and close at
    /// once; its credentials must still be known when the request is authorized).
    public struct AcceptedClient: Sendable {
        let connection: ClientConnection
        /// False when ``ServerOptions/maximumConnections`` clients were already connected.
        let admitted: Bool
    }

    let engine: UpdateEngine
    let options: ServerOptions
    let logger: Logger
    let hub: SubscriptionHub
    let dispatcher: RequestDispatcher
    /// Subscribed at once, so no event between start-up and ``forwardEvents()`` is lost.
    private let engineEvents: EngineEvents
    private let nextConnectionID = Atomic<UInt64>(0)
    /// Each event loop's ``LoopSockets``, made when its first client connects.
    private let loopSockets = Mutex<[ObjectIdentifier: NIOLoopBoundBox<LoopSockets>]>([:])
    /// Requests the connections' handlers hand over, run by ``serve(_:)``.
    private let requests: AsyncStream<ConnectionHandler.Work>
    private let requestSink: AsyncStream<ConnectionHandler.Work>.Continuation

    /// A server over `engine`, reporting `daemonVersion` in `status`. It subscribes to the
    /// engine's events at once, so none is lost before ``forwardEvents()`` runs; it serves
    /// nothing until a listener from ``bind(path:mode:)`` or ``adopt(descriptor:)`` is passed to
    /// ``serve(_:)``.
    public init(engine: UpdateEngine, options: ServerOptions = ServerOptions(), daemonVersion: String, logger: Logger) {
        self.engine = engine
        self.options = options
        self.logger = logger
        let events = engine.events()
        self.engineEvents = events
        self.hub = SubscriptionHub(publishedFrom: events.startSequence)
        self.dispatcher = RequestDispatcher(
            engine: engine, hub: hub, statusCache: StatusCache(), options: options, daemonVersion: daemonVersion,
            logger: logger, accessPolicy: AccessPolicyBox(options.accessPolicy), daemonState: DaemonStateBox()
        )
        (requests, requestSink) = AsyncStream.makeStream()
    }

    /// Binds `path`. A socket file left by a dead daemon is replaced; a live daemon on the
    /// same path is never displaced: binding fails with a clear message instead.
    public func bind(path: String, mode: mode_t = 0o660) async throws -> Listener {
        try await SocketPath.prepare(path)
        hub.seed(from: await engine.lastOutcomes())
        let listener = try await bootstrap
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
        hub.seed(from: await engine.lastOutcomes())
        return try await bootstrap
            .bind(descriptor, cleanupExistingSocketFile: false, childChannelInitializer: childInitializer)
    }

    private var bootstrap: ServerBootstrap {
        // Each connection keeps its read buffer between reads; requests are small, so it
        // starts small and grows (adaptively, up to 64 KiB) only for a client that sends more.
        let bounds = ServerOptions.readBufferSizes
        let initial = min(max(options.initialReadBufferSize, bounds.lowerBound), bounds.upperBound)
        let readBuffers = AdaptiveRecvByteBufferAllocator(minimum: bounds.lowerBound, initial: initial, maximum: bounds.upperBound)
        return ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelOption(.recvAllocator, value: readBuffers)
    }

    private var childInitializer: @Sendable (any Channel) -> EventLoopFuture<AcceptedClient> {
        { channel in
            PeerCredentials.of(channel).flatMapThrowing { peer in
                let id = self.nextConnectionID.wrappingAdd(1, ordering: .relaxed).newValue
                let loop = channel.eventLoop
                let sockets = self.loopSockets.withLock { tables in
                    if let table = tables[ObjectIdentifier(loop)] { return table }
                    let table = NIOLoopBoundBox.makeBoxSendingValue(LoopSockets(), eventLoop: loop)
                    tables[ObjectIdentifier(loop)] = table
                    return table
                }
                let connection = try ClientConnection(
                    id: id, channel: channel, sockets: sockets, peer: peer, maximumPendingBytes: self.options.maximumPendingBytes, logger: self.logger
                )
                // Admitted before any of its lines is read: a client over the limit is never
                // served, not even from the status cache.
                let admitted = self.hub.admit(connection, limit: self.options.maximumConnections)
                guard admitted else { return AcceptedClient(connection: connection, admitted: false) }
                do {
                    let sink = self.requestSink
                    let handler = ConnectionHandler(
                        connection: connection, dispatcher: self.dispatcher, maximumRequestsInFlight: self.options.maximumRequestsInFlight,
                        submit: { sink.yield($0) }
                    )
                    try channel.pipeline.syncOperations.addHandlers(ByteToMessageHandler(LineFrameDecoder(maximumLength: self.options.maximumLineLength)), handler)
                    connection.attach(handler)
                    return AcceptedClient(connection: connection, admitted: true)
                } catch {
                    self.hub.remove(connection)
                    throw error
                }
            }
        }
    }

    /// Serves `listener` until graceful shutdown (or cancellation): then stops accepting,
    /// tells every client `onDaemonStopping`, and closes their connections. Requests
    /// already started finish first.
    public func serve(_ listener: Listener) async throws {
        try await withGracefulShutdownHandler {
            try await listener.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask { await self.runRequests() }
                    // However accepting stops (shutdown, cancellation, an error): end every
                    // connection, then let the requests drain. Connections have no task
                    // of their own that cancellation would end.
                    defer {
                        self.hub.closeAll(sending: DaemonEvent.daemonStopping(DaemonStoppingEvent()).line)
                        self.requestSink.finish()
                    }
                    for try await accepted in inbound where !accepted.admitted {
                        logger.warning("refusing a client: \(options.maximumConnections) connections already")
                        accepted.connection.close()
                    }
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
        // No more events: no response waits for any.
        hub.publishedEvents.finish()
    }

    /// Runs each request the handlers hand over in a task of its own, until the server
    /// stops. A request outlives its client: an install does not stop half-way because a
    /// terminal closed; its response is dropped.
    private func runRequests() async {
        await withDiscardingTaskGroup { group in
            for await work in requests {
                group.addTask {
                    let response = switch work.job {
                    case .request(let request): await self.dispatcher.handle(request, from: work.connection)
                    case .batch(let messages): await self.dispatcher.handle(batch: messages, from: work.connection)
                    }
                    if let response { work.connection.send(response) }
                    work.connection.finished(work)
                }
            }
        }
    }

    /// Replaces the access policy (on reload); connections stay.
    public func setAccessPolicy(_ policy: AccessPolicy?) {
        dispatcher.accessPolicy.replace(with: policy)
    }

    /// Records the outcome of a reload for `status`: the error that rejected it, or nil.
    public func setReloadError(_ error: UpdateError?) {
        dispatcher.daemonState.setReloadError(error)
    }

    /// Why the last reload was rejected; nil when it was accepted, or none was asked for.
    public var reloadError: UpdateError? { dispatcher.daemonState.reloadError }

    /// The number of connected clients.
    public var clientCount: Int { hub.connectionCount }
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
