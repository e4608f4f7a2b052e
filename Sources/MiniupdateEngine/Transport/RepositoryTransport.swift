import MiniupdateCore
import MiniupdateRepository

/// HTTP validators of a fetched file, sent back to make the next request conditional
/// (`If-None-Match`, `If-Modified-Since`) or a resume safe (`If-Range`).
public struct Validators: Sendable, Equatable, Codable {
    /// The `ETag` header as the server sent it, quotes included; nil when it sent none.
    public var etag: String?
    /// The `Last-Modified` header as sent; nil when the server sent none.
    public var lastModified: String?

    /// Validators with the given headers, none by default.
    public init(etag: String? = nil, lastModified: String? = nil) {
        self.etag = etag
        self.lastModified = lastModified
    }

    /// Whether there is neither header: nothing to make a request conditional with.
    public var isEmpty: Bool { etag == nil && lastModified == nil }
}

/// One request for a file of the repository.
public struct FetchRequest: Sendable {
    /// The path relative to the repository root, already validated.
    public var path: String
    /// When set, the transport answers ``FetchOutcome/notModified`` if the file still has
    /// these validators.
    public var ifNoneMatch: Validators?
    /// Ask for the bytes from this offset on; the sink learns where the body really starts.
    public var resumeOffset: Int64
    /// The validators of the partial file being resumed; the resume happens only if the
    /// file has not changed since.
    public var ifRange: Validators?

    /// A request for `path`: unconditional and from the start unless told otherwise.
    public init(path: String, ifNoneMatch: Validators? = nil, resumeOffset: Int64 = 0, ifRange: Validators? = nil) {
        self.path = path
        self.ifNoneMatch = ifNoneMatch
        self.resumeOffset = resumeOffset
        self.ifRange = ifRange
    }
}

/// Where a transport delivers a body, chunk by chunk, so nothing needs the whole file in memory.
///
/// Calls come one at a time and in order, but a sink that asks for it
/// (``deliversOnBlockingPool``) may get a large body from NIO's blocking pool.
public protocol FetchSink {
    /// Whether a large body should reach this sink from the blocking pool, received while
    /// the last part is handled: worth it for a sink that writes and hashes what it gets,
    /// not for one that only keeps it in memory (the default).
    static var deliversOnBlockingPool: Bool { get }

    /// Called once, before any bytes: the body starts at `offset` (0 when the server sent the
    /// whole file even though a resume was asked for), `contentLength` is what the server
    /// announced for the rest, if anything.
    mutating func begin(offset: Int64, contentLength: Int64?, validators: Validators) throws
    /// Called for each chunk of the body, in order. The bytes are valid only during the
    /// call. An `UpdateError` thrown here ends the fetch, which rethrows it.
    mutating func append(_ bytes: UnsafeRawBufferPointer) throws
}

extension FetchSink {
    /// False: by default a sink receives the body on the task that fetches it.
    public static var deliversOnBlockingPool: Bool { false }
}

/// How a fetch ended when it did not throw.
public enum FetchOutcome: Sendable, Equatable {
    /// The file has the validators of ``FetchRequest/ifNoneMatch``; no body was delivered.
    case notModified
    /// The body was delivered in full; these are its validators.
    case fetched(Validators)
}

/// How the engine reaches a repository. A transport moves bytes and enforces time limits;
/// it knows nothing of signatures or packages.
///
/// Errors are `UpdateError`s: `not-found`,
/// `http-status`, `repository-unreachable`,
/// `timeout`, `transfer-too-slow`,
/// `redirect-refused`, or whatever the sink throws.
public protocol RepositoryTransport: Sendable {
    /// A description for people and status output, such as the repository URL.
    var location: String { get }

    /// Fetches `request.path`, delivering its body to `sink` unless the file still has the
    /// validators of ``FetchRequest/ifNoneMatch``. Cancelling the calling task stops the
    /// transfer.
    func fetch<Sink: FetchSink>(_ request: FetchRequest, into sink: inout Sink) async throws -> FetchOutcome

    /// Releases connections and threads. Called once, when the engine stops.
    func shutdown() async
}

/// Limits that a transport enforces on every transfer.
public struct TransferLimits: Sendable, Equatable {
    /// Time to establish a connection.
    public var connectTimeout: Duration
    /// The longest time without a single byte arriving.
    public var idleTimeout: Duration
    /// The longest a whole transfer, head and body, may take.
    public var transferTimeout: Duration
    /// A transfer slower than this many bytes per second, averaged over ``lowSpeedWindow``,
    /// is abandoned (so a 1-byte-a-second drip cannot hold a download slot for hours).
    public var lowSpeedLimit: Int64
    /// The span over which ``lowSpeedLimit`` is averaged, counted from the first byte of the body.
    public var lowSpeedWindow: Duration
    /// The most redirects followed for one request.
    public var maximumRedirects: Int
    /// How long a connection to the repository stays open once idle, for the next request to reuse.
    /// Checks and downloads come in bursts hours apart, so reuse matters only within a burst;
    /// a connection kept longer costs a descriptor, the server's resources, and a wakeup to close it.
    public var keepAliveTimeout: Duration

    /// Limits with the defaults of `docs/engine.md`: connect in 10 s, a byte every 30 s, a
    /// whole transfer in 1 hour, at least 1 KiB/s over 60 s, 5 redirects, 1 s of keep-alive.
    public init(
        connectTimeout: Duration = .seconds(10),
        idleTimeout: Duration = .seconds(30),
        transferTimeout: Duration = .seconds(3600),
        lowSpeedLimit: Int64 = 1024,
        lowSpeedWindow: Duration = .seconds(60),
        maximumRedirects: Int = 5,
        keepAliveTimeout: Duration = .seconds(1)
    ) {
        self.connectTimeout = connectTimeout
        self.idleTimeout = idleTimeout
        self.transferTimeout = transferTimeout
        self.lowSpeedLimit = lowSpeedLimit
        self.lowSpeedWindow = lowSpeedWindow
        self.maximumRedirects = maximumRedirects
        self.keepAliveTimeout = keepAliveTimeout
    }
}

/// Enforces ``TransferLimits/transferTimeout`` and the low-speed rule from inside a body
/// loop; the idle timeout is the transport's own.
///
/// The low-speed window starts with the body (``bodyBegins()``): the time to connect and
/// to get the response head is the connect and idle timeouts' to judge, and counting it
/// would refuse a small file that merely waited for its turn.
struct TransferClock {
    let limits: TransferLimits
    let started = ContinuousClock.now
    private var windowStart = ContinuousClock.now
    private var windowBytes: Int64 = 0

    init(limits: TransferLimits) { self.limits = limits }

    /// The response head has arrived: the body's bytes are counted from now.
    mutating func bodyBegins() {
        windowStart = ContinuousClock.now
        windowBytes = 0
    }

    mutating func received(_ count: Int, path: String) throws {
        let now = ContinuousClock.now
        if now - started > limits.transferTimeout {
            throw UpdateError(.timeout, "\(path): transfer took longer than \(limits.transferTimeout)")
        }
        windowBytes += Int64(count)
        let elapsed = now - windowStart
        if elapsed >= limits.lowSpeedWindow {
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            if Double(windowBytes) / seconds < Double(limits.lowSpeedLimit) {
                throw UpdateError(.transferTooSlow, "\(path): fewer than \(limits.lowSpeedLimit) bytes/s for \(limits.lowSpeedWindow)")
            }
            windowStart = now
            windowBytes = 0
        }
    }
}

extension RepositoryTransport {
    /// Fetches a whole small file into memory, refusing more than `limit` bytes with `tooLarge`.
    func fetchSmall(_ request: FetchRequest, limit: Int, tooLarge: UpdateError.Code) async throws -> (FetchOutcome, [UInt8]) {
        var sink = MemorySink(limit: limit, tooLarge: tooLarge, path: request.path)
        let outcome = try await fetch(request, into: &sink)
        return (outcome, sink.bytes)
    }
}

struct MemorySink: FetchSink {
    let limit: Int
    let tooLarge: UpdateError.Code
    let path: String
    var bytes: [UInt8] = []

    mutating func begin(offset: Int64, contentLength: Int64?, validators: Validators) throws {
        bytes.removeAll()
        if let contentLength, contentLength > limit {
            throw UpdateError(tooLarge, "\(path) is \(contentLength) bytes, over the limit of \(limit)")
        }
    }

    mutating func append(_ chunk: UnsafeRawBufferPointer) throws {
        guard bytes.count + chunk.count <= limit else {
            throw UpdateError(tooLarge, "\(path) is over the limit of \(limit) bytes")
        }
        bytes.append(contentsOf: chunk)
    }
}
