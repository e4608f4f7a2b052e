import AsyncHTTPClient
import FoundationEssentials
import MiniupdateCore
import MiniupdateRepository
import NIOCore
import NIOHTTP1
import NIOPosix

/// A repository served over `http://` or `https://` by any static web server or CDN.
///
/// AsyncHTTPClient does the protocol work; this type adds what an updater needs on top:
/// conditional GETs, resumes that are only accepted when `Content-Range` starts where the
/// partial file ends, a refusal of redirects to another scheme, an overall deadline and
/// a low-speed limit (AsyncHTTPClient's own timeout stops at the response head). A body
/// larger than 1 MiB reaches a sink that asks for it from the blocking pool, in batches,
/// so that receiving overlaps with writing and hashing.
public final class HTTPTransport: RepositoryTransport {
    /// The repository's URL, without a trailing slash; file paths are appended to it.
    public let baseURL: String
    /// The limits every request of this transport is held to.
    public let limits: TransferLimits
    private let scheme: String
    private let client: HTTPClient

    /// A transport for the repository at `baseURL`, with its own HTTP/1.1 connection pool.
    /// Call ``shutdown()`` when done with it.
    ///
    /// Throws `invalid-argument` when `baseURL` is not an `http://` or
    /// `https://` URL.
    public init(baseURL: String, limits: TransferLimits = TransferLimits()) throws {
        guard let colon = baseURL.firstIndex(of: ":"), ["http", "https"].contains(baseURL[..<colon].lowercased()),
              baseURL[colon...].hasPrefix("://"), baseURL.count > baseURL.distance(from: baseURL.startIndex, to: colon) + 3 else {
            throw UpdateError(.invalidArgument, "repository URL \(String(reflecting: baseURL)) is not http:// or https://")
        }
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.scheme = baseURL[..<colon].lowercased()
        self.limits = limits
        var configuration = HTTPClient.Configuration(
            // Redirects are followed here, not by the client, so that each hop is checked
            // before it is taken (AsyncHTTPClient would follow http→https and https→http).
            redirectConfiguration: .disallow,
            timeout: .init(connect: .init(limits.connectTimeout), read: .init(limits.idleTimeout)),
            decompression: .disabled
        )
        configuration.httpVersion = .http1Only
        configuration.connectionPool = .init(idleTimeout: .init(limits.keepAliveTimeout))
        self.client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }

    /// The ``baseURL``.
    public var location: String { baseURL }

    /// GETs `request.path` under ``baseURL``, following redirects of the same scheme.
    ///
    /// Throws `not-found` for 404 and 410, `http-status`
    /// for another unexpected status, `redirect-refused`,
    /// `timeout`, `transfer-too-slow` or
    /// `repository-unreachable`.
    public func fetch<Sink: FetchSink>(_ request: FetchRequest, into sink: inout Sink) async throws -> FetchOutcome {
        let url = baseURL + "/" + request.path
        var httpRequest = HTTPClientRequest(url: url)
        httpRequest.headers.add(name: "Accept-Encoding", value: "identity")
        if let conditions = request.ifNoneMatch {
            if let etag = conditions.etag { httpRequest.headers.add(name: "If-None-Match", value: etag) }
            if let lastModified = conditions.lastModified { httpRequest.headers.add(name: "If-Modified-Since", value: lastModified) }
        }
        // Resume only with a validator: without one, a changed file would be spliced.
        let resumeValidator = request.ifRange?.etag ?? request.ifRange?.lastModified
        let resumeOffset = resumeValidator == nil ? 0 : request.resumeOffset
        if resumeOffset > 0, let resumeValidator {
            httpRequest.headers.add(name: "Range", value: "bytes=\(resumeOffset)-")
            httpRequest.headers.add(name: "If-Range", value: resumeValidator)
        }

        var clock = TransferClock(limits: limits)
        let deadline = NIODeadline.now() + .init(limits.transferTimeout)
        var response: HTTPClientResponse
        var visited: Set<String> = [url]
        while true {
            do {
                response = try await client.execute(httpRequest, deadline: deadline)
            } catch {
                throw Self.translate(error, url: url, limits: limits)
            }
            guard Self.redirectStatuses.contains(response.status.code), let location = response.headers.first(name: "Location") else { break }
            let target = try nextHop(from: httpRequest.url, to: location, visited: &visited, origin: url)
            httpRequest.url = target
        }
        let validators = Validators(etag: response.headers.first(name: "ETag"), lastModified: response.headers.first(name: "Last-Modified"))
        let contentLength = response.headers.first(name: "Content-Length").flatMap { Int64($0) }
        switch response.status.code {
        case 304 where request.ifNoneMatch != nil:
            return .notModified
        case 200:
            try sink.begin(offset: 0, contentLength: contentLength, validators: validators)
        case 206 where resumeOffset > 0:
            guard let range = response.headers.first(name: "Content-Range"), Self.rangeStart(range) == resumeOffset else {
                throw UpdateError(.httpStatus, "\(url): 206 with a Content-Range that does not start at \(resumeOffset)")
            }
            try sink.begin(offset: resumeOffset, contentLength: contentLength, validators: validators)
        case 404, 410:
            throw UpdateError(.notFound, "\(url): HTTP \(response.status.code)")
        default:
            throw UpdateError(.httpStatus, "\(url): HTTP \(response.status.code) \(response.status.reasonPhrase)")
        }
        clock.bodyBegins()
        do {
            if Sink.deliversOnBlockingPool, let contentLength, contentLength > Int64(Self.pipelineBatchSize) {
                try await Self.deliverPipelined(response.body, to: &sink, clock: &clock, url: url)
            } else {
                for try await buffer in response.body {
                    try clock.received(buffer.readableBytes, path: url)
                    try buffer.withUnsafeReadableBytes { (raw) in try sink.append(raw) }
                }
            }
        } catch {
            throw Self.translate(error, url: url, limits: limits)
        }
        return .fetched(validators)
    }

    static let redirectStatuses: Set<UInt> = [301, 302, 303, 307, 308]

    /// Resolves and checks one redirect: same scheme, no loop, at most
    /// ``TransferLimits/maximumRedirects`` hops. The refused hop is never requested.
    func nextHop(from current: String, to location: String, visited: inout Set<String>, origin: String) throws -> String {
        guard let base = URL(string: current), let resolved = URL(string: location, relativeTo: base)?.absoluteURL,
              let targetScheme = resolved.scheme?.lowercased() else {
            throw UpdateError(.redirectRefused, "\(origin): redirect to an invalid location \(String(reflecting: location))")
        }
        let target = resolved.absoluteString
        guard targetScheme == scheme else {
            throw UpdateError(.redirectRefused, "\(origin) redirected to \(target), another scheme")
        }
        guard visited.insert(target).inserted else {
            throw UpdateError(.redirectRefused, "\(origin): redirect loop at \(target)")
        }
        guard visited.count <= limits.maximumRedirects + 1 else {
            throw UpdateError(.redirectRefused, "\(origin): more than \(limits.maximumRedirects) redirects")
        }
        return target
    }

    /// The first byte of `bytes N-M/T`.
    static func rangeStart(_ header: String) -> Int64? {
        guard header.hasPrefix("bytes ") else { return nil }
        return Int64(header.dropFirst(6).prefix(while: { $0 != "-" }))
    }

    static func translate(_ error: any Error, url: String, limits: TransferLimits) -> any Error {
        if error is UpdateError || error is CancellationError { return error }
        if let httpError = error as? HTTPClientError {
            switch httpError {
            case .connectTimeout, .tlsHandshakeTimeout:
                return UpdateError(.timeout, "\(url): no connection within \(limits.connectTimeout)")
            case .readTimeout:
                return UpdateError(.timeout, "\(url): no data for \(limits.idleTimeout)")
            case .deadlineExceeded:
                return UpdateError(.timeout, "\(url): transfer took longer than \(limits.transferTimeout)")
            case .cancelled:
                return CancellationError()
            case .remoteConnectionClosed, .bodyLengthMismatch:
                return UpdateError(.repositoryUnreachable, "\(url): the server closed the connection early")
            default:
                break
            }
        }
        return UpdateError(.repositoryUnreachable, "\(url): \(error)")
    }

    /// Shuts the HTTP client down, closing its connections.
    public func shutdown() async {
        try? await client.shutdown()
    }
}
