import MiniupdateCore
import MiniupdateRepository

/// Limits the engine enforces, exposed so that an admin can tighten or relax them.
public struct EngineLimits: Sendable, Equatable {
    /// Timeouts, the low-speed rule and redirects of every transfer from the repository.
    public var transfer: TransferLimits
    /// The largest index accepted, in bytes.
    public var maximumIndexSize: Int
    /// The largest package accepted, in bytes, whatever the index declares.
    public var maximumPackageSize: Int64
    /// What unpacking one package may create.
    public var extraction: ExtractionLimits
    /// How many apps download at the same time.
    public var maximumConcurrentDownloads: Int
    /// The shortest interval between two progress events of one app.
    public var progressInterval: Duration
    /// History entries kept per app and for the repository.
    public var historyLength: Int

    /// Limits with the defaults of `docs/engine.md`: a 64 MiB index, 4 GiB packages, two
    /// downloads at a time, a progress event every 250 ms at most, 32 history entries.
    public init(
        transfer: TransferLimits = TransferLimits(),
        maximumIndexSize: Int = 64 << 20,
        maximumPackageSize: Int64 = 4 << 30,
        extraction: ExtractionLimits = ExtractionLimits(),
        maximumConcurrentDownloads: Int = 2,
        progressInterval: Duration = .milliseconds(250),
        historyLength: Int = 32
    ) {
        self.transfer = transfer
        self.maximumIndexSize = maximumIndexSize
        self.maximumPackageSize = maximumPackageSize
        self.extraction = extraction
        self.maximumConcurrentDownloads = maximumConcurrentDownloads
        self.progressInterval = progressInterval
        self.historyLength = historyLength
    }
}

/// What an ``UpdateEngine`` works on: its directories, the repository, the keys it trusts
/// and its limits.
///
/// ``UpdateEngine/reconfigure(_:)`` can change everything but the two directories while
/// the engine runs.
public struct EngineConfiguration: Sendable {
    /// Installed apps and durable state (for example `/var/lib/miniupdate`).
    public var stateDirectory: String
    /// Downloads, including partial ones (for example `/var/cache/miniupdate`).
    public var cacheDirectory: String
    /// `file:///path`, `http://…` or `https://…`; empty when none is configured yet, and
    /// every fetch then fails (see ``UnconfiguredTransport``).
    public var repository: String
    /// The keys an index must be signed with; an index signed with any other is refused.
    public var trustedKeys: [RepositoryPublicKey]
    /// The bounds the engine enforces; see ``EngineLimits``.
    public var limits: EngineLimits
    /// What "now" is when the engine compares times: index expiry, the age of a check,
    /// history entries. Tests set a clock of their own.
    public var wallClock: WallClock

    /// A configuration with default ``EngineLimits`` and the system's clock unless given.
    public init(stateDirectory: String, cacheDirectory: String, repository: String, trustedKeys: [RepositoryPublicKey], limits: EngineLimits = EngineLimits(), wallClock: WallClock = .system) {
        self.stateDirectory = stateDirectory
        self.cacheDirectory = cacheDirectory
        self.repository = repository
        self.trustedKeys = trustedKeys
        self.limits = limits
        self.wallClock = wallClock
    }

    /// The transport for ``repository``: ``FileTransport`` for `file://`, ``HTTPTransport``
    /// for `http://` and `https://`, ``UnconfiguredTransport`` when it is empty.
    ///
    /// Throws `invalid-argument` for a `file://` URL without an absolute
    /// path or a URL of another scheme.
    public func makeTransport() throws -> any RepositoryTransport {
        if repository.isEmpty { return UnconfiguredTransport() }
        if repository.hasPrefix("file://") {
            let path = String(repository.dropFirst("file://".count))
            guard path.hasPrefix("/") else {
                throw UpdateError(.invalidArgument, "repository \(repository): a file:// URL needs an absolute path")
            }
            return FileTransport(root: path, limits: limits.transfer)
        }
        return try HTTPTransport(baseURL: repository, limits: limits.transfer)
    }
}

/// Stands in while no repository is configured: every fetch fails with a clear message,
/// and everything local (status, apply, rollback) keeps working.
public struct UnconfiguredTransport: RepositoryTransport {
    /// The stand-in transport.
    public init() {}

    /// Empty: there is no repository to name.
    public var location: String { "" }

    /// Always throws `invalid-argument`, saying that no repository is
    /// configured.
    public func fetch<Sink: FetchSink>(_ request: FetchRequest, into sink: inout Sink) async throws -> FetchOutcome {
        throw UpdateError(.invalidArgument, "no repository is configured (set 'repository' in miniupdate.conf)")
    }

    /// Does nothing: this transport holds nothing.
    public func shutdown() async {}
}
