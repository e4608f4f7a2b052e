import MiniupdateEngine
import MiniupdateProtocol
import NIOCore

/// Parses each request line on the connection's event loop, and answers `status` there
/// from the ``StatusCache`` when it is current and no earlier request of the connection is
/// still being handled (so responses keep their order). Every other line goes on, parsed,
/// to the connection's task.
final class RequestLineHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ParsedLine
    typealias ParsedLine = Result<RequestDispatcher.Request, RPCErrorResponse>

    private let connection: ClientConnection
    private let dispatcher: RequestDispatcher
    /// False for a client over the connection limit: it is closed unanswered.
    private let admitted: Bool

    init(connection: ClientConnection, dispatcher: RequestDispatcher, admitted: Bool) {
        self.connection = connection
        self.dispatcher = dispatcher
        self.admitted = admitted
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard admitted else { return }
        let line = Array(unwrapInboundIn(data).readableBytesView)
        guard !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0d }), let parsed = dispatcher.parse(line) else { return }
        if case .success(let request) = parsed, let response = cachedAnswer(to: request) {
            connection.sendOnLoop(response)
            return
        }
        connection.requestForwardedOnLoop()
        context.fireChannelRead(wrapInboundOut(parsed))
    }

    private func cachedAnswer(to request: RequestDispatcher.Request) -> ByteBuffer? {
        guard request.method == Method.status, let id = request.id, !connection.hasRequestsPendingOnLoop else { return nil }
        return dispatcher.statusCache.response(to: id, generation: dispatcher.engine.statusGeneration, clients: dispatcher.hub.connectionCount)
    }
}
