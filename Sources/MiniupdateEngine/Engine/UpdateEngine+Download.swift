import Logging
import MiniupdateCore
import MiniupdateRepository
import Synchronization

extension UpdateEngine {
    /// Starts downloading and staging `release` in the background, or joins the download of
    /// it already under way. One app downloads one version at a time: a request for another
    /// version waits until the current download ends (the latest request wins), because
    /// two downloads would share the app's cache and staging files.
    func startDownload(_ app: AppID, _ release: Release) -> SharedResult<Void> {
        if let pending = pendingDownloads[app] {
            if pending.version == release.version { return pending.result }
            if let queued = queuedDownloads[app], queued.release.version == release.version { return queued.result }
            let shared = queuedDownloads[app]?.result ?? SharedResult<Void>()
            queuedDownloads[app] = (release, shared)
            return shared
        }
        return launchDownload(app, release, shared: SharedResult<Void>())
    }

    private func launchDownload(_ app: AppID, _ release: Release, shared: SharedResult<Void>) -> SharedResult<Void> {
        pendingDownloads[app] = (release.version, shared)
        apps[app]?.phase = .downloading(release.version)
        if !enqueue(.download(app, release, shared)) {
            pendingDownloads[app] = nil
            apps[app]?.phase = .idle
            shared.complete(.failure(UpdateError(.shuttingDown, "the engine is stopping")))
        }
        return shared
    }

    func performDownload(app: AppID, release: Release, shared: SharedResult<Void>) async {
        let result: Result<Void, any Error>
        do {
            try await downloadAndStage(app: app, release: release)
            CrashPoint.reach("download-staged")
            result = .success(())
            var record = apps[app]
            let replaced = record?.persisted.staged
            // Never let an older download replace a newer staged update.
            if let replaced, release.version < replaced { record?.persisted.staged = replaced } else { record?.persisted.staged = release.version }
            record?.persisted.lastError = nil
            record?.phase = .idle
            apps[app] = record
            self.record(app, .downloaded, version: release.version)
            save(app)
            if let replaced, replaced != apps[app]?.persisted.staged || release.version < replaced {
                _ = enqueue(.prune(app))
            }
            logger.notice("update ready", metadata: ["app": "\(app)", "version": "\(release.version)", "message-id": "\(MessageID.updateReady)"])
            emit(app, .ready(version: release.version))
        } catch {
            let failure = UpdateError(wrapping: error)
            apps[app]?.phase = .idle
            if failure.code == .cancelled || failure.code == .shuttingDown || Task.isCancelled {
                // Parked, not failed: the partial file stays for the next start.
                logger.info("download parked", metadata: ["app": "\(app)", "version": "\(release.version)"])
            } else {
                apps[app]?.persisted.lastError = failure
                record(app, .failed, version: release.version, detail: failure.description)
                save(app)
                logger.error("update failed: \(failure.message)", metadata: ["app": "\(app)", "version": "\(release.version)", "code": "\(failure.code)", "message-id": "\(MessageID.updateFailed)"])
                emit(app, .failed(version: release.version, error: failure))
            }
            result = .failure(failure)
        }
        progressBoard.remove(app)
        if pendingDownloads[app]?.version == release.version { pendingDownloads[app] = nil }
        shared.complete(result)
        if let next = queuedDownloads.removeValue(forKey: app) {
            _ = launchDownload(app, next.release, shared: next.result)
        }
    }

    /// The slow part, off the actor: wait for a slot, download, verify, unpack.
    private nonisolated func downloadAndStage(app: AppID, release: Release) async throws {
        let (downloader, stager, limits) = await (self.downloader, self.stager, self.configuration.limits)
        guard release.size <= limits.maximumPackageSize else {
            throw UpdateError(.packageTooLarge, "\(app) \(release.version) is \(release.size) bytes, over the limit of \(limits.maximumPackageSize)")
        }
        try limits.extraction.admit(release, of: app)
        let slots = await downloadSlots
        try await slots.acquire()
        defer { slots.release() }
        let reporter = ProgressReporter(app: app, version: release.version, interval: limits.progressInterval, broadcaster: broadcaster, board: progressBoard)
        let path = try await downloader.download(app: app, release: release) { bytes, total in
            reporter.report(bytes: bytes, total: total)
        }
        // Staged or refused, the download is done with: a package that matched its signed
        // digest gives the same refused content if fetched again, and a full disk wants
        // its space back.
        defer { downloader.discard(app: app, version: release.version) }
        try await BlockingWork.run { try stager.stage(app: app, release: release, packagePath: path) }
    }
}

/// Publishes download progress at most once per interval (and always the last chunk).
final class ProgressReporter: Sendable {
    let app: AppID
    let version: Version
    let interval: Duration
    let broadcaster: EventBroadcaster
    let board: ProgressBoard
    private let lastReport = Mutex<ContinuousClock.Instant?>(nil)

    init(app: AppID, version: Version, interval: Duration, broadcaster: EventBroadcaster, board: ProgressBoard) {
        self.app = app
        self.version = version
        self.interval = interval
        self.broadcaster = broadcaster
        self.board = board
    }

    func report(bytes: Int64, total: Int64) {
        let now = ContinuousClock.now
        let due = lastReport.withLock { last in
            guard bytes == total || last.map({ now - $0 >= interval }) ?? true else { return false }
            last = now
            return true
        }
        guard due else { return }
        board.set(app, DownloadProgress(version: version, bytes: bytes, total: total))
        broadcaster.emit([EngineEvent(app: app, kind: .progress(version: version, bytes: bytes, total: total))])
    }
}

/// The latest progress of each running download, for status requests.
final class ProgressBoard: Sendable {
    private let state = Mutex<[AppID: DownloadProgress]>([:])
    private let changes: ChangeCounter

    init(changes: ChangeCounter) {
        self.changes = changes
    }

    func set(_ app: AppID, _ progress: DownloadProgress) {
        state.withLock { $0[app] = progress }
        changes.bump()
    }

    func remove(_ app: AppID) {
        _ = state.withLock { $0.removeValue(forKey: app) }
        changes.bump()
    }

    func get(_ app: AppID) -> DownloadProgress? { state.withLock { $0[app] } }
    func snapshot() -> [AppID: DownloadProgress] { state.withLock { $0 } }
}
