/// Limits and intervals of the socket server, with the defaults documented in
/// `docs/protocol.md`.
public struct ServerOptions: Sendable {
    /// The longest request line accepted; a longer one gets an error, then the
    /// connection is closed.
    public var maximumLineLength: Int
    /// How many bytes may wait unread for one client: a client with more waiting when the
    /// next message for it comes is disconnected. A single message larger than this is
    /// still delivered to a client that has nothing waiting.
    public var maximumPendingBytes: Int
    /// How many slow requests (`checkForUpdate`, `install`) one connection may have in
    /// flight, more get `busy`; and how many of its other requests may wait their turn
    /// before the daemon stops reading from it until they are answered.
    public var maximumRequestsInFlight: Int
    /// The most messages one JSON-RPC batch may hold; a longer batch is refused as an
    /// invalid request. Its members run one after another.
    public var maximumBatchLength: Int
    /// How many apps one connection may subscribe to; a subscribe beyond that gets
    /// `too-many-subscriptions`, so that no client can grow the daemon without bound.
    public var maximumSubscriptionsPerConnection: Int
    /// An app's cold start (its first subscribe while no other connection subscribes to
    /// it) re-checks it when its last successful check is older than this. The default,
    /// zero, checks at every cold start, as the seed's platform does.
    public var checkInterval: Duration
    /// A cold start starts no check of an app whose last check started less than this ago,
    /// whatever its outcome: with the repository down, a thousand clients subscribing
    /// bring one failed check, not a thousand (each announced to every listener).
    public var checkRetryInterval: Duration
    /// The most connections served at once; further ones are closed at once.
    public var maximumConnections: Int
    /// The size of a connection's first read buffer, within ``readBufferSizes`` (a value
    /// outside is taken as the nearer bound). Each connection keeps one between reads and
    /// adapts it to what its client sends; starting small keeps thousands of idle
    /// subscribers small (NIO's default is 2 KiB each).
    public var initialReadBufferSize: Int
    /// The sizes a connection's read buffer adapts between: 64 bytes to 64 KiB.
    public static let readBufferSizes = 64...65536
    /// Who may call the admin methods; nil lets every peer call everything (for a daemon
    /// embedded in one user's process, like the demo).
    public var accessPolicy: AccessPolicy?

    /// Options with the given values. The defaults are the documented ones
    /// (`docs/configuration.md`, `docs/protocol.md`): 1 MiB lines, 8 MiB of unread output,
    /// 16 requests in flight, 1024 subscriptions and 64-message batches per connection,
    /// a check at every cold start but at most one a minute per app, 16,384 connections,
    /// a 512-byte first read buffer, and no access policy (every peer may call everything).
    public init(
        maximumLineLength: Int = 1 << 20,
        maximumPendingBytes: Int = 8 << 20,
        maximumRequestsInFlight: Int = 16,
        maximumSubscriptionsPerConnection: Int = 1024,
        maximumBatchLength: Int = 64,
        checkInterval: Duration = .zero,
        checkRetryInterval: Duration = .seconds(60),
        maximumConnections: Int = 16_384,
        initialReadBufferSize: Int = 512,
        accessPolicy: AccessPolicy? = nil
    ) {
        self.maximumLineLength = maximumLineLength
        self.maximumPendingBytes = maximumPendingBytes
        self.maximumRequestsInFlight = maximumRequestsInFlight
        self.maximumSubscriptionsPerConnection = maximumSubscriptionsPerConnection
        self.maximumBatchLength = maximumBatchLength
        self.checkInterval = checkInterval
        self.checkRetryInterval = checkRetryInterval
        self.maximumConnections = maximumConnections
        self.initialReadBufferSize = initialReadBufferSize
        self.accessPolicy = accessPolicy
    }
}
