#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MiniupdateCore
import FoundationEssentials
import Logging
import MiniupdateRepository

/// Reads the state directory at start-up and repairs what an interrupted run left:
/// temporary files, staging trees and trash are removed, and each app's record is
/// reconciled with its `current` symlink, which is the truth about what is installed.
struct StateLoader: Sendable {
    let layout: StateLayout
    let configuration: EngineConfiguration
    let verifier: IndexVerifier
    let logger: Logger

    struct Loaded {
        var repository: PersistedRepositoryState
        var index: RepositoryIndex?
        /// Set when the cached index was accepted but not decoded: the snapshot gave every
        /// app's offered version, and the index is decoded when a check first needs it.
        var deferredIndex: DeferredIndex?
        var apps: [AppID: AppRecord]
    }

    func load(location: String) async throws -> Loaded {
        let started = ContinuousClock.now
        try FileSystem.createDirectory(layout.root)
        try FileSystem.createDirectory(layout.appsDirectory)
        try FileSystem.createDirectory(configuration.cacheDirectory)
        for name in try FileSystem.contentsOfDirectory(layout.root) where FileSystem.isTemporaryName(name) {
            try FileSystem.removeTree("\(layout.root)/\(name)")
        }

        var repository = loadRepositoryState()
        if repository.location != nil, repository.location != location {
            // Serials and validators belong to one repository; a new one starts afresh.
            logger.notice("repository changed from \(repository.location ?? "") to \(location)")
            repository.accepted = nil
            repository.validators = nil
            repository.location = location
            try? FileSystem.removeTree(layout.cachedIndex)
        }
        let snapshot = StateSnapshot.take(layout: layout, repository: repository, trustedKeys: configuration.trustedKeys,
                                          limit: configuration.limits.maximumIndexSize, logger: logger)
        // Without a snapshot, the cached index is verified and decoded while the apps load.
        // Both are blocking reads and decoding: they run on the blocking pool, whose threads
        // work in parallel (tasks started from an event loop all stay on that one loop in
        // `miniupdated`).
        let accepted = repository.accepted
        async let cachedIndex = snapshot == nil ? decodeCachedIndex(accepted: accepted) : nil

        // Most apps have no download directory: list the downloads once rather than
        // probing a directory per app.
        let appsWithDownloads = Set(try FileSystem.contentsOfDirectory("\(configuration.cacheDirectory)/downloads"))
        let appsDirectory = try layout.openAppsDirectory()
        defer { close(appsDirectory) }
        // While the apps directory is as the snapshot saw it, its entries are every app
        // there is: no need to list 10,000 names. Otherwise the listing runs while the
        // entries are checked.
        let sameApps = snapshot.map { $0.header.appsDirectory != nil && $0.header.appsDirectory == AppStamp(ofDirectory: appsDirectory) } ?? false
        async let adopted = adoptAll(from: snapshot, appsDirectory: appsDirectory, appsWithDownloads: appsWithDownloads)
        var ids = sameApps ? nil : try listApps()
        let adoption = try await adopted
        if ids == nil, !adoption.complete { ids = try listApps() }
        var apps = adoption.records
        let unread: [AppID]
        if let ids {
            // An entry whose directory is gone, or no longer an app's, is dropped.
            let listed = Set(ids)
            for app in Array(apps.keys) where !listed.contains(app) { apps[app] = nil }
            unread = ids.filter { apps[$0] == nil }
        } else {
            unread = adoption.changed
        }
        for (app, record) in try await readAll(unread, appsWithDownloads: appsWithDownloads) { apps[app] = record }

        let index: RepositoryIndex?
        var deferred: DeferredIndex?
        if snapshot == nil {
            index = try await cachedIndex
        } else if let snapshot, unread.isEmpty {
            // Every app's offered version came from the snapshot: the index can wait.
            index = nil
            if accepted != nil, FileSystem.exists(layout.cachedIndex) { deferred = DeferredIndex(expires: snapshot.header.indexExpires) }
        } else {
            // An app read from disk needs the index for what it is offered.
            index = try await decodeCachedIndex(accepted: accepted)
        }
        if index == nil, deferred == nil { repository.validators = nil }
        let elapsed = (ContinuousClock.now - started).components
        let milliseconds = elapsed.seconds * 1000 + elapsed.attoseconds / 1_000_000_000_000_000
        logger.info("loaded \(apps.count) apps in \(milliseconds) ms: \(apps.count - unread.count) from the start-up snapshot, \(unread.count) read from disk")
        return Loaded(repository: repository, index: index, deferredIndex: deferred, apps: apps)
    }

    /// What the snapshot gave: the records of apps unchanged since it was written, the
    /// apps that changed, and whether every chunk could be decoded (if not, the apps of
    /// the others are unknown).
    private struct Adoption: Sendable {
        var records: [AppID: AppRecord] = [:]
        var changed: [AppID] = []
        var complete = true
    }

    /// Checks the snapshot's entries against the disk; each chunk is decoded and checked on
    /// the blocking pool, in parallel.
    private func adoptAll(from snapshot: StateSnapshot?, appsDirectory: CInt, appsWithDownloads: Set<String>) async throws -> Adoption {
        guard let snapshot else { return Adoption(complete: false) }
        return try await withThrowingTaskGroup(of: Adoption.self) { group in
            for chunk in snapshot.chunks.indices {
                group.addTask {
                    try await BlockingWork.run {
                        var adoption = Adoption()
                        let entries: [StateSnapshot.Entry]
                        do {
                            entries = try snapshot.entries(inChunk: chunk)
                        } catch {
                            logger.warning("start-up snapshot: chunk \(chunk) cannot be decoded, reading its apps from disk: \(error)")
                            adoption.complete = false
                            return adoption
                        }
                        for entry in entries {
                            if let record = try adopt(entry, appsDirectory: appsDirectory, hasDownloads: appsWithDownloads.contains(entry.app.rawValue)) {
                                adoption.records[entry.app] = record
                            } else {
                                adoption.changed.append(entry.app)
                            }
                        }
                        return adoption
                    }
                }
            }
            var all = Adoption()
            all.records.reserveCapacity(snapshot.chunks.count * StateSnapshot.chunkSize)
            for try await adoption in group {
                all.records.merge(adoption.records) { first, _ in first }
                all.changed += adoption.changed
                all.complete = all.complete && adoption.complete
            }
            return all
        }
    }

    /// The app ids in the apps directory; other names are logged and skipped.
    private func listApps() throws -> [AppID] {
        var ids: [AppID] = []
        for name in try FileSystem.contentsOfDirectory(layout.appsDirectory) {
            guard let app = try? AppID(name) else {
                if !FileSystem.isTemporaryName(name) { logger.warning("ignoring \(layout.appsDirectory)/\(name): not an app id") }
                continue
            }
            ids.append(app)
        }
        return ids
    }

    /// Reads and repairs each app's directory. Each is its own: they load in parallel, in
    /// a few slices per CPU so that the pool's threads finish together, whichever also
    /// decodes the index.
    private func readAll(_ ids: [AppID], appsWithDownloads: Set<String>) async throws -> [(AppID, AppRecord)] {
        let slices = max(1, min(ids.count / 256, 4 * ProcessInfo.processInfo.activeProcessorCount))
        return try await withThrowingTaskGroup(of: [(AppID, AppRecord)].self) { group in
            for slice in 0..<slices where slice < ids.count {
                let mine = stride(from: slice, to: ids.count, by: slices).map { ids[$0] }
                group.addTask {
                    try await BlockingWork.run { try mine.map { ($0, try loadApp($0, hasDownloads: appsWithDownloads.contains($0.rawValue))) } }
                }
            }
            var records: [(AppID, AppRecord)] = []
            records.reserveCapacity(ids.count)
            for try await loaded in group { records += loaded }
            return records
        }
    }

    /// The app's record from its snapshot entry, if its files are as they were when the
    /// entry was written; nil if they changed (it must then be read from disk).
    private func adopt(_ entry: StateSnapshot.Entry, appsDirectory: CInt, hasDownloads: Bool) throws -> AppRecord? {
        guard let stamp = AppStamp(of: entry.app, inAppsDirectory: appsDirectory), stamp == entry.stamp else { return nil }
        if hasDownloads {
            let kept = Set([entry.state.installed, entry.state.previous, entry.state.staged].compactMap { $0?.text })
            try PackageDownloader.tidy(cacheDirectory: configuration.cacheDirectory, app: entry.app, unpacked: kept)
        }
        var record = AppRecord(app: entry.app, persisted: entry.state)
        record.available = entry.available
        return record
    }

    /// The cached index, decoded on the blocking pool; see ``loadCachedIndex(accepted:)``.
    func decodeCachedIndex(accepted: IndexVerifier.Accepted?) async throws -> RepositoryIndex? {
        try await BlockingWork.run { loadCachedIndex(accepted: accepted) }
    }

    private func loadRepositoryState() -> PersistedRepositoryState {
        do {
            return try StateFile.load(PersistedRepositoryState.self, from: layout.repositoryState) ?? PersistedRepositoryState()
        } catch {
            logger.error("\(error); starting with an empty repository state")
            return PersistedRepositoryState()
        }
    }

    /// The cached index, if it is still the one accepted and its signature still verifies
    /// with today's trusted keys. Expiry is not checked here: it is checked before any use.
    func loadCachedIndex(accepted: IndexVerifier.Accepted?) -> RepositoryIndex? {
        guard let accepted, FileSystem.exists(layout.cachedIndex) else { return nil }
        do {
            let bytes = try FileSystem.readFile(layout.cachedIndex, limit: configuration.limits.maximumIndexSize)
            let verified = try verifier.verify(bytes, now: .min, lastAccepted: nil)
            guard verified.accepted == accepted else { return nil }
            return verified.index
        } catch {
            logger.warning("discarding the cached index: \(error)")
            return nil
        }
    }

    private func loadApp(_ app: AppID, hasDownloads: Bool) throws -> AppRecord {
        let stager = Stager(layout: layout, limits: configuration.limits.extraction)
        try stager.cleanUp(app: app)
        var persisted: PersistedAppState
        do {
            persisted = try StateFile.load(PersistedAppState.self, from: layout.appState(app)) ?? PersistedAppState()
        } catch {
            logger.error("\(error); rebuilding the state of \(app) from its files", metadata: ["app": "\(app)"])
            persisted = PersistedAppState()
        }
        let original = persisted
        let present = Set(try stager.stagedVersions(app: app).map(\.text))
        func exists(_ version: Version?) -> Bool { version.map { present.contains($0.text) } ?? false }

        let link = FileSystem.readLink(layout.current(app))
        if let link, link.hasPrefix("/") {
            persisted.development = true
            persisted.installed = nil
            persisted.previous = nil
        } else if let link, link.hasPrefix("versions/"), let version = try? Version(String(link.dropFirst("versions/".count))), exists(version) {
            persisted.development = false
            if persisted.installed != version {
                // `current` was switched but the state file was not yet written.
                persisted.previous = persisted.installed
                persisted.installed = version
            }
        } else {
            persisted.development = false
            persisted.installed = nil
            persisted.previous = nil
        }
        if !exists(persisted.previous) || persisted.previous == persisted.installed { persisted.previous = nil }
        if let staged = persisted.staged, !exists(staged) || persisted.installed.map({ !($0 < staged) }) ?? false {
            persisted.staged = nil
        }
        if persisted.staged == nil, let installed = persisted.installed {
            // A tree under versions/ is complete by construction: one staged just before a
            // crash, newer than what is installed and not held back, is the staged update.
            persisted.staged = present.compactMap { try? Version($0) }
                .filter { candidate in installed < candidate && (persisted.heldBack.map { $0 < candidate } ?? true) }
                .max()
        }
        let keep = Set([persisted.installed, persisted.previous, persisted.staged].compactMap { $0?.text })
        var trashed = false
        for name in present where !keep.contains(name) {
            if let version = try? Version(name) {
                try stager.moveToTrash(app: app, version: version)
                trashed = true
            }
        }
        if trashed { try stager.emptyTrash(app: app) }
        if hasDownloads { try PackageDownloader.tidy(cacheDirectory: configuration.cacheDirectory, app: app, unpacked: keep) }
        if persisted != original {
            try StateFile.save(persisted, to: layout.appState(app))
        }
        return AppRecord(app: app, persisted: persisted)
    }
}
