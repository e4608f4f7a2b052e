import FoundationEssentials
import Logging
import MiniupdateRepository
import Synchronization

/// The update engine: it knows the installed apps, checks the repository, downloads and
/// verifies new versions, stages them, and applies or rolls them back.
///
/// Use it from any task; it is an actor. Background work (index fetches, downloads,
/// clean-up) runs in the task group of ``run()``, which the owner keeps running for the
/// engine's life and cancels to stop it: downloads then park, keeping their partial files
/// for the next start.
///
/// Concurrent requests for the same work coalesce: any number of checks while an index
/// fetch is in flight share that fetch, and a download requested twice runs once.
///
/// Every change is announced as an ``EngineEvent`` on ``events()``, in order.
public actor UpdateEngine {
    enum Job: Sendable {
        case refreshIndex(SharedResult<RepositoryIndex>)
        case download(AppID, Release, SharedResult<Void>)
        case prune(AppID)
        /// A check nobody waits for: of one app, or of all when nil.
        case check(AppID?)
    }

    let layout: StateLayout
    let logger: Logger
    var configuration: EngineConfiguration
    /// Bumped by every reconfiguration, so a fetch started before one can tell.
    var configurationGeneration = 0
    var transport: any RepositoryTransport { didSet { changes.bump() } }
    /// Transports replaced by ``reconfigure(_:)``; downloads may still use them, so they
    /// are shut down when the engine stops.
    var retiredTransports: [any RepositoryTransport] = []
    var verifier: IndexVerifier
    var stager: Stager
    var downloader: PackageDownloader
    let broadcaster = EventBroadcaster()
    /// Bumped by every change a status would show; see ``statusGeneration``.
    let changes = ChangeCounter()
    let progressBoard: ProgressBoard
    var downloadSlots: AsyncSemaphore

    // Each `didSet` ignores the old value, so the table is still changed in place.
    var apps: [AppID: AppRecord] { didSet { changes.bump() } }
    var repositoryState: PersistedRepositoryState { didSet { changes.bump() } }
    /// Always set through ``RepositoryIndex/sharingIDs(with:)`` with ``apps``, so that its
    /// app ids share their strings with the table's.
    var currentIndex: RepositoryIndex? { didSet { changes.bump() } }
    /// Set while the accepted index is on disk but not decoded yet (a start from the
    /// snapshot): the next fetch decodes it first.
    var deferredIndex: DeferredIndex?
    /// Events of the step in progress, while ``batchingEvents(_:)`` runs.
    var eventBatch: [EngineEvent]?

    private let jobs: AsyncStream<Job>
    private let jobSink: AsyncStream<Job>.Continuation
    var pendingIndexRefresh: SharedResult<RepositoryIndex>?
    var pendingDownloads: [AppID: (version: Version, result: SharedResult<Void>)] = [:]
    /// A download of another version asked for while one is running; it starts next.
    var queuedDownloads: [AppID: (release: Release, result: SharedResult<Void>)] = [:]

    /// Loads the state from disk, repairing what an interrupted run left behind, using
    /// every CPU. Does no network I/O: a daemon can be ready as soon as this returns.
    public init(configuration: EngineConfiguration, logger: Logger = Logger(label: "miniupdate.engine"), transport: (any RepositoryTransport)? = nil) async throws {
        self.configuration = configuration
        self.logger = logger
        self.layout = StateLayout(root: configuration.stateDirectory)
        self.transport = try transport ?? configuration.makeTransport()
        self.verifier = IndexVerifier(trustedKeys: configuration.trustedKeys, maximumSize: configuration.limits.maximumIndexSize)
        self.stager = Stager(layout: layout, limits: configuration.limits.extraction)
        self.downloader = PackageDownloader(transport: self.transport, cacheDirectory: configuration.cacheDirectory)
        self.progressBoard = ProgressBoard(changes: changes)
        self.downloadSlots = AsyncSemaphore(permits: configuration.limits.maximumConcurrentDownloads)
        (jobs, jobSink) = AsyncStream.makeStream(of: Job.self)

        let loaded = try await StateLoader(layout: layout, configuration: configuration, verifier: verifier, logger: logger).load(location: self.transport.location)
        self.apps = loaded.apps
        self.repositoryState = loaded.repository
        self.currentIndex = loaded.index?.sharingIDs(with: loaded.apps)
        self.deferredIndex = loaded.deferredIndex
        if let index = loaded.index {
            for app in Array(apps.keys) {
                let offered = apps[app]?.offeredUpdate(in: index)
                apps[app]?.available = offered
            }
        }
    }

    /// Runs background work until the calling task is cancelled.
    public func run() async {
        await withDiscardingTaskGroup { group in
            for await job in jobs {
                group.addTask { await self.perform(job) }
            }
        }
        jobSink.finish()
        let stopping = UpdateError(.shuttingDown, "the engine is stopping")
        pendingIndexRefresh?.complete(.failure(stopping))
        pendingIndexRefresh = nil
        for (app, pending) in pendingDownloads {
            apps[app]?.phase = .idle
            pending.result.complete(.failure(stopping))
        }
        pendingDownloads.removeAll()
        for queued in queuedDownloads.values { queued.result.complete(.failure(stopping)) }
        queuedDownloads.removeAll()
        await transport.shutdown()
        for retired in retiredTransports { await retired.shutdown() }
        retiredTransports.removeAll()
        writeSnapshot()
        broadcaster.finish()
    }

    private func perform(_ job: Job) async {
        switch job {
        case .refreshIndex(let shared): await performIndexRefresh(shared)
        case .download(let app, let release, let shared): await performDownload(app: app, release: release, shared: shared)
        case .prune(let app): await performPrune(app: app)
        case .check(let app?): _ = try? await check(app)
        case .check(nil): _ = try? await checkAll()
        }
    }

    /// Adds background work; fails `shared`-style waiters at once if the engine has stopped.
    func enqueue(_ job: Job) -> Bool {
        if case .terminated = jobSink.yield(job) { return false }
        return true
    }

    /// One app's cold start: checks it in the background if its last successful check is
    /// older than `staleAfter`, unless a check of it started less than `retryAfter` ago.
    /// The second condition keeps a failing repository from being asked again, and every
    /// listener from hearing the failure again, for each client that subscribes.
    /// Returns whether a check was started.
    @discardableResult
    public func requestColdStartCheck(_ app: AppID, staleAfter: Duration, retryAfter: Duration) -> Bool {
        guard let record = apps[app], record.isInstalled, !record.isDevelopment else { return false }
        if let lastCheck = record.persisted.lastCheck, Self.now() - lastCheck < staleAfter.components.seconds { return false }
        let now = ContinuousClock.now
        if let lastAttempt = record.lastAttempt, now - lastAttempt < retryAfter { return false }
        // Counted as an attempt now, not when the job starts: subscribes arriving meanwhile
        // must not queue checks of their own.
        apps[app]?.lastAttempt = now
        return enqueue(.check(app))
    }

    /// Starts a check of every installed app in the background (the cold-start check).
    public func requestCheckAll() {
        _ = enqueue(.check(nil))
    }

    /// A stream of every event from now on. It ends when the engine stops.
    public nonisolated func events() -> EngineEvents {
        broadcaster.subscribe()
    }

    func emit(_ app: AppID, _ kind: EngineEvent.Kind) {
        let event = EngineEvent(app: app, kind: kind)
        if eventBatch != nil {
            eventBatch?.append(event)
        } else {
            broadcaster.emit([event])
        }
    }

    /// Runs `body`, then hands every event it emitted to subscribers as one batch.
    /// `body` does not suspend, so nothing else runs on the actor in between: no event of
    /// another step (a download's progress) can come before these.
    func batchingEvents<Result>(_ body: () throws -> Result) rethrows -> Result {
        guard eventBatch == nil else { return try body() }
        eventBatch = []
        defer {
            let batch = eventBatch ?? []
            eventBatch = nil
            broadcaster.emit(batch)
        }
        return try body()
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }

    /// Saves one app's state; a failure is logged, not thrown: the filesystem (`current`)
    /// stays the truth, and the next save or start-up repairs the record.
    func save(_ app: AppID) {
        guard let record = apps[app] else { return }
        do {
            try StateFile.save(record.persisted, to: layout.appState(app))
        } catch {
            logger.error("cannot save the state of \(app): \(error)", metadata: ["app": "\(app)"])
        }
    }

    /// Leaves the start-up snapshot for the next start; see ``StateSnapshot``. Called once
    /// the background work has ended, so no state changes after it.
    func writeSnapshot() {
        do {
            try StateSnapshot.write(apps.values, repository: repositoryState, trustedKeys: configuration.trustedKeys,
                                    indexExpires: currentIndex?.expires ?? deferredIndex?.expires, layout: layout)
        } catch {
            logger.warning("cannot write the start-up snapshot; the next start reads every app: \(error)")
        }
    }

    func saveRepositoryState() {
        do {
            try StateFile.save(repositoryState, to: layout.repositoryState)
        } catch {
            logger.error("cannot save the repository state: \(error)")
        }
    }

    func record(_ app: AppID, _ event: HistoryEntry.Event, version: Version? = nil, detail: String? = nil) {
        apps[app]?.persisted.history.record(HistoryEntry(time: Self.now(), event: event, version: version, detail: detail), limit: configuration.limits.historyLength)
    }

    func requireApp(_ app: AppID) throws -> AppRecord {
        guard let record = apps[app], record.isInstalled else {
            throw UpdateError(.unknownApp, "\(app) is not installed")
        }
        return record
    }

}
