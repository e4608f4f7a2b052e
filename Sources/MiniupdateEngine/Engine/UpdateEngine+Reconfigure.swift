import MiniupdateCore
import MiniupdateRepository

extension UpdateEngine {
    /// Applies a new configuration without dropping any state: the repository, the trusted
    /// keys and the limits. Work under way finishes with the settings it started with.
    /// The state and cache directories cannot change while running. A different repository
    /// starts afresh: its first fetch is unconditional and any serial is accepted.
    ///
    /// Throws `invalid-argument` when either directory differs, or when
    /// the new repository URL is not usable (see ``EngineConfiguration/makeTransport()``);
    /// the running configuration then stays.
    public func reconfigure(_ new: EngineConfiguration) throws {
        guard new.stateDirectory == configuration.stateDirectory, new.cacheDirectory == configuration.cacheDirectory else {
            throw UpdateError(.invalidArgument, "the state and cache directories cannot change without a restart")
        }
        let keepsTransport = new.repository == configuration.repository && new.limits.transfer == configuration.limits.transfer
        let newTransport = keepsTransport ? transport : try new.makeTransport()
        if new.repository != configuration.repository {
            // Serials and validators belong to one repository; the next check starts afresh.
            repositoryState.location = newTransport.location
            repositoryState.accepted = nil
            repositoryState.validators = nil
            currentIndex = nil
            deferredIndex = nil
            saveRepositoryState()
            try? FileSystem.removeTree(layout.cachedIndex)
        }
        if !keepsTransport { retiredTransports.append(transport) }
        transport = newTransport
        verifier = IndexVerifier(trustedKeys: new.trustedKeys, maximumSize: new.limits.maximumIndexSize)
        stager = Stager(layout: layout, limits: new.limits.extraction)
        downloader = PackageDownloader(transport: newTransport, cacheDirectory: new.cacheDirectory)
        if new.limits.maximumConcurrentDownloads != configuration.limits.maximumConcurrentDownloads {
            downloadSlots = AsyncSemaphore(permits: new.limits.maximumConcurrentDownloads)
        }
        configuration = new
        configurationGeneration += 1
        logger.info("configuration reloaded", metadata: ["repository": "\(newTransport.location)", "keys": "\(new.trustedKeys.count)"])
    }
}
