import MiniupdateCore
import MiniupdateRepository

/// The engine's in-memory view of one app; persisted as ``PersistedAppState``.
struct AppRecord: Sendable {
    var app: AppID
    var persisted: PersistedAppState
    var phase: Phase = .idle
    /// The outcome of the last check since start-up, replayed to late listeners.
    var lastCheckResult: CheckResult?
    /// The newer version the last check saw on offer.
    var available: Version?
    /// When a check of this app last started, successful or not.
    var lastAttempt: ContinuousClock.Instant?
    /// A simulated update waiting for `applyUpdate`; never on disk.
    var simulatedReady: Version?

    enum Phase: Sendable, Equatable {
        case idle, checking, downloading(Version)
    }

    var installed: Version? { persisted.installed }
    var isDevelopment: Bool { persisted.development }
    var isInstalled: Bool { persisted.installed != nil || persisted.development }

    /// The version of the repository's release this app should be offered, if any: newer
    /// than the installed version, and newer than a version an admin rolled back from.
    func offeredUpdate(in index: RepositoryIndex) -> Version? {
        guard !isDevelopment, let installed, let offered = index.apps[app]?.version else { return nil }
        guard installed < offered else { return nil }
        if let heldBack = persisted.heldBack, !(heldBack < offered) { return nil }
        return offered
    }

    /// Marks a check as started (the phase only if the app is not busy downloading).
    mutating func beginCheck(at now: ContinuousClock.Instant) {
        lastAttempt = now
        if phase == .idle { phase = .checking }
    }

    /// Records a check against `index` made at `now`: what is on offer, and the check's
    /// outcome. Returns the outcome and whether an earlier error was cleared by it (the
    /// state file must then be saved).
    mutating func recordCheck(against index: RepositoryIndex, now: Int64) -> (result: CheckResult, clearedError: Bool) {
        let offered = offeredUpdate(in: index)
        let result = CheckResult(hasUpdate: offered != nil, version: offered)
        persisted.lastCheck = now
        lastCheckResult = result
        available = offered
        if phase == .checking { phase = .idle }
        guard offered == nil, persisted.lastError != nil else { return (result, false) }
        persisted.lastError = nil
        return (result, true)
    }

    func status(progress: DownloadProgress?, repositoryError: UpdateError?) -> AppStatus {
        let state: AppState
        if persisted.development {
            state = .development
        } else if persisted.installed == nil {
            state = phase == .idle ? .notInstalled : .downloading
        } else {
            switch phase {
            case .checking: state = .checking
            case .downloading: state = .downloading
            case .idle:
                if persisted.staged != nil {
                    state = .ready
                } else if persisted.lastError != nil {
                    state = .failed
                } else if let lastCheckResult {
                    state = lastCheckResult.hasUpdate ? .downloading : .upToDate
                } else {
                    state = .unchecked
                }
            }
        }
        return AppStatus(
            app: app,
            state: state,
            installedVersion: persisted.installed,
            isDevelopment: persisted.development,
            availableVersion: available,
            stagedVersion: persisted.staged,
            previousVersion: persisted.previous,
            heldBackVersion: persisted.heldBack,
            lastCheck: persisted.lastCheck,
            lastCheckResult: lastCheckResult,
            lastError: persisted.lastError,
            progress: progress
        )
    }
}
