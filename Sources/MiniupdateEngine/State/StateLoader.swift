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
        var apps: [AppID: AppRecord]
    }

    func load(location: String) async throws -> Loaded {
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
        // The cached index is verified and decoded while the apps load.
        async let cachedIndex = loadCachedIndex(accepted: repository.accepted)

        // Most apps have no download directory: list the downloads once rather than
        // probing a directory per app.
        let appsWithDownloads = Set(try FileSystem.contentsOfDirectory("\(configuration.cacheDirectory)/downloads"))
        var ids: [AppID] = []
        for name in try FileSystem.contentsOfDirectory(layout.appsDirectory) {
            guard let app = try? AppID(name) else {
                if !FileSystem.isTemporaryName(name) { logger.warning("ignoring \(layout.appsDirectory)/\(name): not an app id") }
                continue
            }
            ids.append(app)
        }
        // Each app's directory is its own: they load in parallel, in one slice per CPU.
        let slices = max(1, min(ids.count / 256, ProcessInfo.processInfo.activeProcessorCount))
        let apps = try await withThrowingTaskGroup(of: [(AppID, AppRecord)].self) { group in
            for slice in 0..<slices {
                let mine = stride(from: slice, to: ids.count, by: slices).map { ids[$0] }
                group.addTask { try mine.map { ($0, try loadApp($0, hasDownloads: appsWithDownloads.contains($0.rawValue))) } }
            }
            var apps: [AppID: AppRecord] = [:]
            apps.reserveCapacity(ids.count)
            for try await loaded in group {
                for (app, record) in loaded { apps[app] = record }
            }
            return apps
        }
        let index = await cachedIndex
        if index == nil { repository.validators = nil }
        return Loaded(repository: repository, index: index, apps: apps)
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
    private func loadCachedIndex(accepted: IndexVerifier.Accepted?) -> RepositoryIndex? {
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
