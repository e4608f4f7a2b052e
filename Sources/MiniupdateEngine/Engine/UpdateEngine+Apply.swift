import Logging
import MiniupdateCore
import MiniupdateRepository

extension UpdateEngine {
    /// Switches `current` to the staged update. Takes a rename and an fsync, whatever the
    /// app's size; old trees are deleted afterwards in the background. Announces
    /// ``EngineEvent/Kind/applied(version:previous:)``. When nothing is staged but a
    /// ``simulate(_:_:)`` ended ready, it applies that simulated update once instead,
    /// changing nothing on disk.
    ///
    /// Throws `unknown-app` when `app` is not installed,
    /// `no-update-ready` when nothing is staged (nothing changes then), or
    /// the local error of the switch (`io`, `no-space`).
    @discardableResult
    public func applyUpdate(_ app: AppID) throws -> ApplyResult {
        let record = try requireApp(app)
        guard let staged = record.persisted.staged else {
            if let simulated = record.simulatedReady { return applySimulated(app, simulated, over: record.installed) }
            throw UpdateError(.noUpdateReady, "\(app) has no update ready to apply")
        }
        return try switchTo(app, staged, event: .applied)
    }

    /// Goes back to the version before the current one. The version left behind is held
    /// back: checks do not offer it again until something newer is published. Announces
    /// ``EngineEvent/Kind/rolledBack(version:from:)``, then
    /// ``EngineEvent/Kind/ready(version:)`` when a newer update stays staged.
    ///
    /// Throws `unknown-app` when `app` is not installed,
    /// `no-previous-version` when no previous version is kept, or the local
    /// error of the switch.
    @discardableResult
    public func rollback(_ app: AppID) throws -> ApplyResult {
        let record = try requireApp(app)
        guard let previous = record.persisted.previous, let installed = record.installed,
              FileSystem.kind(at: layout.version(app, previous)) == .directory else {
            throw UpdateError(.noPreviousVersion, "\(app) has no previous version to roll back to")
        }
        // Record the hold before switching: a crash in between must not let the version
        // rolled back from come back as an update at the next start.
        apps[app]?.persisted.heldBack = installed
        save(app)
        try stager.switchCurrent(app: app, to: previous)
        var updated = apps[app] ?? record
        updated.persisted.installed = previous
        updated.persisted.previous = nil
        updated.persisted.heldBack = installed
        if let staged = updated.persisted.staged, !(installed < staged) { updated.persisted.staged = nil }
        updated.available = nil
        updated.simulatedReady = nil
        updated.lastCheckResult = CheckResult(hasUpdate: false, version: nil)
        apps[app] = updated
        self.record(app, .rolledBack, version: previous, detail: "from \(installed)")
        save(app)
        _ = enqueue(.prune(app))
        logger.notice("rolled back", metadata: ["app": "\(app)", "version": "\(previous)", "from": "\(installed)", "message-id": "\(MessageID.rollback)"])
        emit(app, .rolledBack(version: previous, from: installed))
        if let staged = updated.persisted.staged {
            // A newer update stays staged: listeners learn it is still ready.
            emit(app, .ready(version: staged))
        }
        return ApplyResult(app: app, version: previous, previousVersion: installed)
    }

    /// Installs the repository's latest version of `app`, or updates to it. An explicit
    /// request: it also lifts a hold left by a rollback. Returns at once when that version
    /// is already installed. Otherwise it waits for the download (announcing progress and
    /// ``EngineEvent/Kind/ready(version:)``), then switches as ``applyUpdate(_:)`` does.
    ///
    /// Throws `unknown-app` when the repository has no such app; what
    /// ``check(_:)`` throws for a failed index fetch; the download's, verification's or
    /// staging's error (such as `digest-mismatch`,
    /// `package-too-large` or `archive-unsafe-path`); or
    /// `no-update-ready` when the version was not staged after all. A new
    /// app whose download fails is not left behind.
    @discardableResult
    public func install(_ app: AppID) async throws -> ApplyResult {
        let index = try await refreshIndex()
        guard let release = index.apps[app] else {
            throw UpdateError(.unknownApp, "the repository has no app \(app)")
        }
        if let record = apps[app], let installed = record.installed, !record.isDevelopment, !(installed < release.version) {
            recordInstallCheck(app, against: index)
            return ApplyResult(app: app, version: installed, previousVersion: nil)
        }
        let isNew = apps[app]?.isInstalled != true
        if apps[app] == nil {
            try FileSystem.createDirectory(layout.appDirectory(app))
            apps[app] = AppRecord(app: app, persisted: PersistedAppState())
        }
        apps[app]?.persisted.heldBack = nil
        if apps[app]?.persisted.staged != release.version {
            do {
                try await startDownload(app, release).value()
            } catch {
                if isNew, apps[app]?.isInstalled != true {
                    apps[app] = nil
                    try? FileSystem.removeTree(layout.appDirectory(app))
                }
                throw error
            }
        }
        // Others may have acted while this waited: a concurrent install already applied
        // it, or a newer version was staged meanwhile.
        guard let record = apps[app] else { throw UpdateError(.unknownApp, "\(app) was removed while installing") }
        if let installed = record.installed, !record.isDevelopment, !(installed < release.version) {
            return ApplyResult(app: app, version: installed, previousVersion: record.persisted.previous)
        }
        guard let staged = record.persisted.staged, !(staged < release.version) else {
            throw UpdateError(.noUpdateReady, "\(app) \(release.version) was not staged")
        }
        let result = try switchTo(app, staged, event: .installed)
        recordInstallCheck(app, against: index)
        return result
    }

    /// An install fetched the index and took its latest version: that is a check of the
    /// app, and its status says when it was.
    private func recordInstallCheck(_ app: AppID, against index: RepositoryIndex) {
        guard apps[app] != nil else { return }
        _ = apps[app]?.recordCheck(against: index, now: now())
        save(app)
    }

    /// Makes `app` a development install: `current` points at `directory`, a tree the
    /// developer owns, and the app is never checked. Staged and previous versions are
    /// dropped.
    ///
    /// Throws `invalid-argument` when `directory` is not an absolute path
    /// to a directory, or the local error of the switch.
    public func installDevelopment(_ app: AppID, from directory: String) throws {
        guard directory.hasPrefix("/"), FileSystem.kind(at: directory) == .directory else {
            throw UpdateError(.invalidArgument, "\(directory) is not an absolute path to a directory")
        }
        try FileSystem.createDirectory(layout.appDirectory(app))
        try stager.switchCurrent(app: app, target: directory)
        var record = apps[app] ?? AppRecord(app: app, persisted: PersistedAppState())
        record.persisted.installed = nil
        record.persisted.development = true
        record.persisted.previous = nil
        record.persisted.staged = nil
        record.available = nil
        apps[app] = record
        self.record(app, .development, detail: directory)
        save(app)
        _ = enqueue(.prune(app))
    }

    private func switchTo(_ app: AppID, _ version: Version, event: HistoryEntry.Event) throws -> ApplyResult {
        guard var record = apps[app] else { throw UpdateError(.unknownApp, "\(app) is not installed") }
        let previous = record.isDevelopment ? nil : record.installed
        try stager.switchCurrent(app: app, to: version)
        record.persisted.installed = version
        record.persisted.development = false
        record.persisted.previous = previous
        record.persisted.staged = nil
        record.persisted.lastError = nil
        record.available = nil
        record.simulatedReady = nil
        record.lastCheckResult = CheckResult(hasUpdate: false, version: nil)
        apps[app] = record
        self.record(app, event, version: version, detail: previous.map { "from \($0)" })
        save(app)
        _ = enqueue(.prune(app))
        logger.notice("update applied", metadata: ["app": "\(app)", "version": "\(version)", "previous": "\(previous?.text ?? "none")", "message-id": "\(MessageID.updateApplied)"])
        emit(app, .applied(version: version, previous: previous))
        return ApplyResult(app: app, version: version, previousVersion: previous)
    }

    /// Deletes every tree of `app` that is neither current, previous, staged nor being
    /// staged. The choice and the move to `trash/` happen on the actor, so they cannot race
    /// a download that is about to stage; the slow delete happens off it.
    func performPrune(app: AppID) async {
        guard let record = apps[app] else { return }
        let keep = Set([record.installed, record.persisted.previous, record.persisted.staged, pendingDownloads[app]?.version].compactMap { $0?.text })
        do {
            for version in try stager.stagedVersions(app: app) where !keep.contains(version.text) {
                try stager.moveToTrash(app: app, version: version)
            }
            try await Self.emptyTrash(app: app, stager: stager)
        } catch {
            logger.warning("cannot remove old versions of \(app): \(error)", metadata: ["app": "\(app)"])
        }
    }

    private nonisolated static func emptyTrash(app: AppID, stager: Stager) async throws {
        try await BlockingWork.run { try stager.emptyTrash(app: app) }
    }
}
