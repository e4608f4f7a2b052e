import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A static file server on 127.0.0.1 for tests, with the HTTP features a repository needs
/// (ETag, Last-Modified, If-None-Match, Range, If-Range) and faults to inject per path.
public final class TestHTTPServer: Sendable {
    public enum Fault: Sendable {
        /// Answer with this status and no body.
        case status(Int)
        /// Announce the full length, send this many bytes, then close.
        case truncate(after: Int)
        /// Send these bytes after the file (the body is longer than the index declares).
        case append([UInt8])
        /// Send `bytes` every `interval`, without end if `total` is nil.
        case drip(bytes: Int, interval: TimeAmount)
        /// Send a redirect to this location.
        case redirect(to: String)
        /// Never answer.
        case hang
        /// Answer normally after this delay.
        case delay(TimeAmount)
        /// Answer normally once the test calls ``releaseHeldRequests()``: for a test that
        /// must act while a request waits, however slow the machine.
        case hold
    }

    public struct LoggedRequest: Sendable {
        public var path: String
        public var headers: [(String, String)]
        public var status: Int
        public var bodyBytes: Int

        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    public let root: String
    private let channel: any Channel
    private let state = NIOLockedValueBox(State())

    struct State {
        var faults: [String: Fault] = [:]
        var log: [LoggedRequest] = []
        var delayedInFlight = 0
        var maximumDelayedInFlight = 0
        var openConnections = 0
        /// The answers of held requests, each to run on its connection's event loop.
        var held: [@Sendable () -> Void] = []
    }

    /// Client connections open right now (a keep-alive connection counts until the client closes it).
    public var openConnections: Int { state.withLockedValue { $0.openConnections } }

    func connectionOpened() { state.withLockedValue { $0.openConnections += 1 } }

    func connectionClosed() { state.withLockedValue { $0.openConnections -= 1 } }

    /// Held requests waiting for ``releaseHeldRequests()``.
    public var heldRequests: Int { state.withLockedValue { $0.held.count } }

    /// Answers every held request.
    public func releaseHeldRequests() {
        for answer in state.withLockedValue({ state in defer { state.held = [] }; return state.held }) { answer() }
    }

    func hold(_ answer: @escaping @Sendable () -> Void) { state.withLockedValue { $0.held.append(answer) } }

    /// The most delayed requests that were waiting at the same time.
    public var maximumConcurrentDelayedRequests: Int { state.withLockedValue { $0.maximumDelayedInFlight } }

    func delayStarted() {
        state.withLockedValue { state in
            state.delayedInFlight += 1
            state.maximumDelayedInFlight = max(state.maximumDelayedInFlight, state.delayedInFlight)
        }
    }

    func delayEnded() { state.withLockedValue { $0.delayedInFlight -= 1 } }

    public let port: Int
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public init(root: String) async throws {
        self.root = root
        let box = StateBox()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(FileHandler(root: root, server: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        self.channel = channel
        self.port = channel.localAddress!.port!
        box.server = self
    }

    public func setFault(_ fault: Fault?, for path: String) {
        state.withLockedValue { $0.faults[path] = fault }
    }

    func fault(for path: String) -> Fault? { state.withLockedValue { $0.faults[path] } }

    func log(_ request: LoggedRequest) { state.withLockedValue { $0.log.append(request) } }

    public var requests: [LoggedRequest] { state.withLockedValue { $0.log } }

    public func requests(to path: String) -> [LoggedRequest] { requests.filter { $0.path == path } }

    public func clearLog() { state.withLockedValue { $0.log.removeAll() } }

    /// Closes the listening socket now, so later connections are refused.
    public func shutdownNow() throws {
        try channel.close().wait()
    }

    public func shutdown() async throws {
        try await channel.close()
    }
}

/// Lets the handler reach the server once it exists (the bootstrap needs the handler first).
final class StateBox: @unchecked Sendable {
    // Written once before the first connection is accepted, read afterwards.
    var server: TestHTTPServer?
}

private final class FileHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let root: String
    let box: StateBox
    var head: HTTPRequestHead?

    init(root: String, server: StateBox) {
        self.root = root
        self.box = server
    }

    func channelActive(context: ChannelHandlerContext) {
        box.server?.connectionOpened()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        box.server?.connectionClosed()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            if let head { respond(context: context, head: head) }
            head = nil
        }
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead, afterWait: Bool = false) {
        let path = String(head.uri.prefix(while: { $0 != "?" }))
        let server = box.server!
        let requestHeaders = head.headers.map { ($0.name, $0.value) }
        func finish(_ status: HTTPResponseStatus, _ headers: HTTPHeaders, _ body: [UInt8], close: Bool = false) {
            server.log(.init(path: path, headers: requestHeaders, status: Int(status.code), bodyBytes: body.count))
            var headers = headers
            if !headers.contains(name: "Content-Length") { headers.add(name: "Content-Length", value: "\(body.count)") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
            if !body.isEmpty {
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
            }
            if close {
                let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
                context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer())))).whenComplete { _ in bound.value.close(promise: nil) }
            } else {
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }

        let fault = server.fault(for: path)
        if case .delay(let amount)? = fault, !afterWait {
            server.delayStarted()
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: amount) {
                let (handler, context) = bound.value
                server.delayEnded()
                handler.respond(context: context, head: head, afterWait: true)
            }
            return
        }
        if case .hold? = fault, !afterWait {
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let loop = context.eventLoop
            server.hold {
                loop.execute {
                    let (handler, context) = bound.value
                    handler.respond(context: context, head: head, afterWait: true)
                }
            }
            return
        }
        switch afterWait ? nil : fault {
        case .status(let code)?:
            finish(HTTPResponseStatus(statusCode: code), [:], [])
            return
        case .redirect(let location)?:
            finish(.found, ["Location": location], [])
            return
        case .hang?:
            server.log(.init(path: path, headers: requestHeaders, status: 0, bodyBytes: 0))
            return
        default:
            break
        }

        let filePath = root + path
        guard !path.contains(".."), let data = FileManager.default.contents(atPath: filePath) else {
            finish(.notFound, [:], [])
            return
        }
        let bytes = [UInt8](data)
        let attributes = try? FileManager.default.attributesOfItem(atPath: filePath)
        let mtime = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let etag = "\"\(bytes.count)-\(Int64(mtime * 1_000_000))\""
        let lastModified = httpDate(mtime)
        var headers: HTTPHeaders = ["ETag": etag, "Last-Modified": lastModified, "Accept-Ranges": "bytes"]

        if let inm = head.headers.first(name: "If-None-Match"), inm == etag {
            finish(.notModified, headers, [])
            return
        }
        var start = 0
        if let range = head.headers.first(name: "Range"), range.hasPrefix("bytes="), range.hasSuffix("-"),
           let from = Int(range.dropFirst(6).dropLast()) {
            let ifRange = head.headers.first(name: "If-Range")
            if ifRange == nil || ifRange == etag || ifRange == lastModified {
                guard from < bytes.count else {
                    finish(.rangeNotSatisfiable, ["Content-Range": "bytes */\(bytes.count)"], [])
                    return
                }
                start = from
            }
        }
        let status: HTTPResponseStatus = start > 0 ? .partialContent : .ok
        if start > 0 { headers.add(name: "Content-Range", value: "bytes \(start)-\(bytes.count - 1)/\(bytes.count)") }
        let body = Array(bytes[start...])

        switch afterWait ? nil : fault {
        case .truncate(let after)?:
            headers.add(name: "Content-Length", value: "\(body.count)")
            finish(status, headers, Array(body.prefix(after)), close: true)
        case .append(let extra)?:
            finish(status, headers, body + extra)
        case .drip(let chunk, let interval)?:
            server.log(.init(path: path, headers: requestHeaders, status: Int(status.code), bodyBytes: 0))
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
            drip(context: context, bytes: body, offset: 0, chunk: chunk, interval: interval)
        default:
            finish(status, headers, body)
        }
    }

    private func drip(context: ChannelHandlerContext, bytes: [UInt8], offset: Int, chunk: Int, interval: TimeAmount) {
        guard context.channel.isActive else { return }
        let end = min(bytes.count, offset + chunk)
        let piece = end > offset ? Array(bytes[offset..<end]) : Array(repeating: UInt8(ascii: "x"), count: chunk)
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: piece)))), promise: nil)
        let next = end
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: interval) {
            let (handler, context) = bound.value
            handler.drip(context: context, bytes: bytes, offset: next, chunk: chunk, interval: interval)
        }
    }
}

private func httpDate(_ seconds: Double) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "GMT")
    formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
    return formatter.string(from: Date(timeIntervalSince1970: seconds))
}
