import MiniupdateRepository

extension UpdateEngine {
    /// The installed apps, development installs included, in id order.
    public var installedApps: [AppID] {
        apps.values.filter(\.isInstalled).map(\.app).sorted()
    }

    /// Returns at once: proof, for a watchdog, that the actor is not stuck.
    public func ping() {}

    public func status(of app: AppID) throws -> AppStatus {
        let record = try requireApp(app)
        return record.status(progress: progressBoard.get(app), repositoryError: repositoryState.lastError)
    }

    public func status() -> EngineStatus {
        let progress = progressBoard.snapshot()
        return EngineStatus(
            repository: transport.location,
            serial: repositoryState.accepted?.serial,
            indexExpires: currentIndex?.expires,
            lastCheck: repositoryState.lastCheck,
            lastError: repositoryState.lastError,
            apps: apps.values.filter(\.isInstalled).sorted { $0.app < $1.app }.map {
                $0.status(progress: progress[$0.app], repositoryError: repositoryState.lastError)
            }
        )
    }
}
