import MiniupdateCore
import MiniupdateRepository
import Synchronization

extension UpdateEngine {
    /// The installed apps, development installs included, in id order.
    public var installedApps: [AppID] {
        apps.values.filter(\.isInstalled).map(\.app).sorted()
    }

    /// How many apps are installed, development installs included.
    public var installedAppCount: Int {
        apps.values.reduce(0) { $0 + ($1.isInstalled ? 1 : 0) }
    }

    /// The outcomes a listener should hear first about each app that has one: an update
    /// staged and ready, or the error of its last attempt. Cheaper than ``status()`` at
    /// start-up, where most of 10,000 apps have neither.
    public func lastOutcomes() -> [(app: AppID, staged: Version?, error: UpdateError?)] {
        apps.values.compactMap { record in
            guard record.isInstalled, record.persisted.staged != nil || record.persisted.lastError != nil else { return nil }
            return (record.app, record.persisted.staged, record.persisted.lastError)
        }
    }

    /// Returns at once: proof, for a watchdog, that the actor is not stuck.
    public func ping() {}

    /// Where one installed app stands.
    ///
    /// Throws `unknown-app` when `app` is not installed.
    public func status(of app: AppID) throws -> AppStatus {
        let record = try requireApp(app)
        return record.status(progress: progressBoard.get(app), repositoryError: repositoryState.lastError)
    }

    /// A number that changes whenever anything ``status()`` reports may have changed, so a
    /// front end can reuse a status it computed while the number stays the same. Read it
    /// from any thread, without waiting for the actor.
    public nonisolated var statusGeneration: UInt64 { changes.value }

    /// The repository's state and every installed app's, in id order, stamped with the
    /// ``statusGeneration`` it was taken at.
    public func status() -> EngineStatus {
        // Read first: a change made while this status is assembled then shows as a new number.
        let generation = changes.value
        let progress = progressBoard.snapshot()
        return EngineStatus(
            generation: generation,
            repository: transport.location,
            serial: repositoryState.accepted?.serial,
            indexExpires: currentIndex?.expires ?? deferredIndex?.expires,
            lastCheck: repositoryState.lastCheck,
            lastError: repositoryState.lastError,
            apps: apps.values.filter(\.isInstalled).sorted { $0.app < $1.app }.map {
                $0.status(progress: progress[$0.app], repositoryError: repositoryState.lastError)
            }
        )
    }
}

/// Counts changes; see ``UpdateEngine/statusGeneration``.
final class ChangeCounter: Sendable {
    private let count = Atomic<UInt64>(0)

    var value: UInt64 { count.load(ordering: .acquiring) }

    func bump() {
        count.add(1, ordering: .releasing)
    }
}
