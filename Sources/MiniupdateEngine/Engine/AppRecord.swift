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

    enum Phase: Sendable, Equatable {
        case idle, checking, downloading(Version)
    }

    var installed: Version? { persisted.installed }
    var isDevelopment: Bool { persisted.development }
    var isInstalled: Bool { persisted.installed != nil || persisted.development }

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
