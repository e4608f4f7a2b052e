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
/// - A batch is one piece of work: its members run one after another and one line
///   answers them all. A batch with a slow member is slow.
/// - Any other request waits for the one before it. While
///   ``ServerOptions/maximumRequestsInFlight`` requests wait, the handler reads no more
///   from the socket: a client that floods requests is slowed, not buffered.
final class ConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// A request handed to the server's request tasks.
    struct Work: Sendable {
        enum Job: Sendable {
            case request(IncomingRequest)
            case batch([IncomingMessage])
        }

        var job: Job
        var connection: ClientConnection
        /// Whether later requests of the connection wait for it.
        var ordered: Bool
    }

    /// A parsed line waiting its turn.
    private enum Item {
        case request(IncomingRequest)
        case batch([IncomingMessage])
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
        switch IncomingLine.parse(line, maximumBatchLength: dispatcher.options.maximumBatchLength) {
        case .single(.ignored): return
        case .single(.invalid(let response)): waiting.append(.error(response))
        case .single(.request(let request)): waiting.append(.request(request))
        case .batch(let messages): waiting.append(.batch(messages))
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
            case .batch(let messages):
                let mayTakeLong = messages.contains { if case .request(let request) = $0 { request.mayTakeLong } else { false } }
                start(.batch(messages), mayTakeLong: mayTakeLong, id: nil)
            }
        }
        if readHeld, waiting.count < maximumRequestsInFlight, let context {
            readHeld = false
            context.read()
        }
    }

    private func handle(_ request: IncomingRequest) {
        if case .answered(let line) = dispatcher.immediateAnswer(to: request, from: connection) {
            if let line { connection.sendOnLoop(line) }
            return
        }
        start(.request(request), mayTakeLong: request.mayTakeLong, id: request.id)
    }

    /// Hands `job` to the request tasks: in order, or beside later requests when it may
    /// take long and fewer than ``maximumRequestsInFlight`` such jobs run.
    private func start(_ job: Work.Job, mayTakeLong: Bool, id: RPCID?) {
        guard mayTakeLong else {
            busy = true
            submit(Work(job: job, connection: connection, ordered: true))
            return
        }
        guard slowInFlight < maximumRequestsInFlight else {
            let error = RPCError(.busy, "more than \(maximumRequestsInFlight) slow requests (checkForUpdate, install) in flight on this connection")
            switch job {
            case .request where id != nil:
                connection.sendOnLoop(ByteBuffer(bytes: encodeLine(RPCErrorResponse(id: id, error: error))))
            case .batch(let messages):
                // Each member with an id is answered `busy`, as if it had run.
                let answers = messages.compactMap { message -> ByteBuffer? in
                    guard case .request(let request) = message, let id = request.id else { return nil }
                    return ByteBuffer(bytes: encodeLine(RPCErrorResponse(id: id, error: error)))
                }
                if !answers.isEmpty { connection.sendOnLoop(encodeBatchLine(answers)) }
            case .request:
                break
            }
            return
        }
        slowInFlight += 1
        submit(Work(job: job, connection: connection, ordered: false))
    }
}
