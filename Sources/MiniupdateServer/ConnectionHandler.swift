import MiniupdateEngine
import MiniupdateProtocol
import NIOCore

/// Serves one client on its event loop: parses each request line, answers what it can at
/// once, and hands the rest to the server's request tasks, one at a time, so responses
/// keep the order of requests.
///
/// A connection has no task of its own: an idle client costs its channel and this handler.
///
/// - `status` is answered from the ``StatusCache`` while it is current.
/// - A slow request (`checkForUpdate`, `install`) starts at once and runs beside later
///   ones; at most ``ServerOptions/maximumRequestsInFlight`` per connection, more get `busy`.
/// - Any other request waits for the one before it. While
///   ``ServerOptions/maximumRequestsInFlight`` requests wait, the handler reads no more
///   from the socket: a client that floods requests is slowed, not buffered.
final class ConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// A request handed to the server's request tasks.
    struct Work: Sendable {
        var request: RequestDispatcher.Request
        var connection: ClientConnection
        /// Whether later requests of the connection wait for it.
        var ordered: Bool
    }

    /// A parsed line waiting its turn.
    private enum Item {
        case request(RequestDispatcher.Request)
        case error(RPCErrorResponse)
        /// The last answer: the connection closes once it is written.
        case finalError(RPCErrorResponse)
    }

    private let connection: ClientConnection
    private let dispatcher: RequestDispatcher
    private let submit: @Sendable (Work) -> Void
    private let maximumRequestsInFlight: Int
    /// At most ``maximumRequestsInFlight`` plus one, so an array: unlike NIO's
    /// `CircularBuffer`, which allocates room for 16 at once, it costs an idle connection
    /// nothing, and one that sent a request only what it needed.
    private var waiting: [Item] = []
    /// An ordered request is with the request tasks.
    private var busy = false
    private var slowInFlight = 0
    /// A read was held back because too many requests wait.
    private var readHeld = false
    /// The connection gave its last answer: nothing more is read or started.
    private var ended = false
    private var context: ChannelHandlerContext?

    init(connection: ClientConnection, dispatcher: RequestDispatcher, maximumRequestsInFlight: Int, submit: @escaping @Sendable (Work) -> Void) {
        self.connection = connection
        self.dispatcher = dispatcher
        self.maximumRequestsInFlight = maximumRequestsInFlight
        self.submit = submit
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !ended else { return }
        let line = Array(unwrapInboundIn(data).readableBytesView)
        guard !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0d }) else { return }
        switch dispatcher.parse(line) {
        case nil: return
        case .failure(let response)?: waiting.append(.error(response))
        case .success(let request)?: waiting.append(.request(request))
        }
        proceed()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // Requests already started finish; their responses go nowhere. Waiting ones are dropped.
        waiting.removeAll()
        dispatcher.hub.remove(connection)
        connection.attach(nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is LineFrameDecoder.LineTooLongError {
            // Answered in its turn, after the requests before it.
            let error = RPCError(code: RPCErrorCode.invalidRequest, message: "request line longer than \(dispatcher.options.maximumLineLength) bytes")
            waiting.append(.finalError(RPCErrorResponse(id: nil, error: error)))
            proceed()
        } else {
            dispatcher.logger.debug("client \(connection.id) failed: \(error)")
            context.close(promise: nil)
        }
    }

    func read(context: ChannelHandlerContext) {
        if waiting.count >= maximumRequestsInFlight {
            readHeld = true
        } else {
            context.read()
        }
    }

    /// Called on the event loop when a request handed over is done with.
    func finished(_ work: Work) {
        if work.ordered {
            busy = false
        } else {
            slowInFlight -= 1
        }
        proceed()
    }

    /// Handles waiting lines in order until one must wait for the request tasks.
    private func proceed() {
        while !busy, !ended, !waiting.isEmpty {
            let item = waiting.removeFirst()
            switch item {
            case .error(let response):
                connection.sendOnLoop(ByteBuffer(bytes: encodeLine(response)))
            case .finalError(let response):
                connection.sendOnLoop(ByteBuffer(bytes: encodeLine(response)), thenClose: true)
                ended = true
                waiting.removeAll()
                return
            case .request(let request):
                handle(request)
            }
        }
        if readHeld, waiting.count < maximumRequestsInFlight, let context {
            readHeld = false
            context.read()
        }
    }

    private func handle(_ request: RequestDispatcher.Request) {
        if request.method == Method.status, let id = request.id,
           let response = dispatcher.statusCache.response(to: id, generation: dispatcher.engine.statusGeneration, clients: dispatcher.hub.connectionCount) {
            connection.sendOnLoop(response)
            return
        }
        guard request.isSlow else {
            busy = true
            submit(Work(request: request, connection: connection, ordered: true))
            return
        }
        guard slowInFlight < maximumRequestsInFlight else {
            if let id = request.id {
                let error = RPCError(reason: "busy", message: "more than \(maximumRequestsInFlight) requests in flight on this connection")
                connection.sendOnLoop(ByteBuffer(bytes: encodeLine(RPCErrorResponse(id: id, error: error))))
            }
            return
        }
        slowInFlight += 1
        submit(Work(request: request, connection: connection, ordered: false))
    }
}
