import FoundationEssentials
import Logging
import MiniupdateCore
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
    /// Held from ``init(configuration:logger:transport:)`` until ``run()`` or ``close()``
    /// ends: no other engine uses these directories meanwhile.
    let directoryLocks: EngineDirectoryLocks
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

    /// ``close()`` has run.
    private var closed = false
    private let jobs: AsyncStream<Job>
    private let jobSink: AsyncStream<Job>.Continuation
    var pendingIndexRefresh: SharedResult<RepositoryIndex>?
    var pendingDownloads: [AppID: (version: Version, result: SharedResult<Void>)] = [:]
    /// A download of another version asked for while one is running; it starts next.
    var queuedDownloads: [AppID: (release: Release, result: SharedResult<Void>)] = [:]

    /// Locks the state and cache directories, then loads the state from disk, repairing
    /// what an interrupted run left behind, using every CPU. Does no network I/O: a daemon
    /// can be ready as soon as this returns.
    ///
    /// Throws `in-use` when another engine holds either directory. Once it
    /// returns, call ``run()`` or ``close()``: they release the locks and the transport.
    public init(configuration: EngineConfiguration, logger: Logger = Logger(label: "miniupdate.engine"), transport: (any RepositoryTransport)? = nil) async throws {
        let locks = try EngineDirectoryLocks(stateDirectory: configuration.stateDirectory, cacheDirectory: configuration.cacheDirectory)
        let layout = StateLayout(root: configuration.stateDirectory)
        let verifier = IndexVerifier(trustedKeys: configuration.trustedKeys, maximumSize: configuration.limits.maximumIndexSize)
        let transport = try transport ?? configuration.makeTransport()
        let loaded: StateLoader.Loaded
        do {
            loaded = try await StateLoader(layout: layout, configuration: configuration, verifier: verifier, logger: logger).load(location: transport.location)
        } catch {
            // The transport holds connections (an HTTP client must be shut down), the
            // locks a descriptor: neither outlives a failed start.
            await transport.shutdown()
            locks.release()
            throw error
        }
        self.directoryLocks = locks
        self.configuration = configuration
        self.logger = logger
        self.layout = layout
        self.transport = transport
        self.verifier = verifier
        self.stager = Stager(layout: layout, limits: configuration.limits.extraction)
        self.downloader = PackageDownloader(transport: self.transport, cacheDirectory: configuration.cacheDirectory)
        self.progressBoard = ProgressBoard(changes: changes)
        self.downloadSlots = AsyncSemaphore(permits: configuration.limits.maximumConcurrentDownloads)
        (jobs, jobSink) = AsyncStream.makeStream(of: Job.self)
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
    ///
    /// On cancellation, downloads park and keep their partial files, callers still waiting
    /// for a fetch or a download get `shutting-down`, the start-up snapshot
    /// is written, and ``close()`` runs. Call it once per engine.
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
        writeSnapshot()
        await close()
    }

    /// Releases what the engine holds (the transport's connections, the directory locks)
    /// and ends ``events()``: for an engine that stops, and for one that will never
    /// ``run()`` because its owner failed to start. Later calls do nothing.
    public func close() async {
        guard !closed else { return }
        closed = true
        jobSink.finish()
        await transport.shutdown()
        for retired in retiredTransports { await retired.shutdown() }
        retiredTransports.removeAll()
        broadcaster.finish()
        directoryLocks.release()
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
        if let lastCheck = record.persisted.lastCheck, now() - lastCheck < staleAfter.components.seconds { return false }
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

    /// The ``EngineEventBatch/sequence`` of the last batch of events emitted, from any
    /// thread. Read after a call returns, it covers every event the call emitted: a
    /// front end that has passed on the batches up to it has told its listeners all of
    /// them, and can answer the call after its events.
    public nonisolated var eventSequence: UInt64 { broadcaster.sequence }

    func emit(_ app: AppID, _ kind: EngineEvent.Kind, simulated: Bool = false) {
        let event = EngineEvent(app: app, kind: kind, simulated: simulated)
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

    /// The wall-clock time in seconds since the epoch, from the configured clock.
    func now() -> Int64 { configuration.wallClock.now() }

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
        apps[app]?.persisted.history.record(HistoryEntry(time: now(), event: event, version: version, detail: detail), limit: configuration.limits.historyLength)
    }

    func requireApp(_ app: AppID) throws -> AppRecord {
        guard let record = apps[app], record.isInstalled else {
            throw UpdateError(.unknownApp, "\(app) is not installed")
        }
        return record
    }

}
