import MiniupdateCore
import MiniupdateRepository

extension UpdateEngine {
    /// Checks one app against the repository now. Announces ``EngineEvent/Kind/checked(hasUpdate:version:)``
    /// and, when there is something newer, starts downloading it in the background.
    ///
    /// A development install is never checked: it reports no update without any fetch.
    ///
    /// Throws `unknown-app` when `app` is not installed. Otherwise it
    /// throws what failed the index fetch: a transport code such as
    /// `repository-unreachable`, a verification code such as
    /// `signature-invalid` or `index-expired`,
    /// `shutting-down` when the engine stops, or
    /// `cancelled` when a ``reconfigure(_:)`` overtook the fetch; and
    /// `CancellationError` when the calling task is cancelled (the shared fetch goes on).
    /// A failed fetch is also announced as ``EngineEvent/Kind/failed(version:error:)``.
    @discardableResult
    public func check(_ app: AppID) async throws -> CheckResult {
        let record = try requireApp(app)
        if record.isDevelopment { return reportDevelopment(app) }
        apps[app]?.beginCheck(at: .now)
        let index: RepositoryIndex
        do {
            index = try await refreshIndex()
        } catch {
            failCheck(of: [app], error)
            throw error
        }
        return evaluate(app, against: index, now: now())
    }

    /// Checks every installed app with one index fetch, announcing each app's outcome as
    /// ``check(_:)`` does; the result holds every installed app, development installs
    /// (never fetched for) included.
    ///
    /// Throws what ``check(_:)`` throws for a failed fetch, after announcing the failure
    /// for every app it was checking.
    @discardableResult
    public func checkAll() async throws -> [AppID: CheckResult] {
        var results: [AppID: CheckResult] = [:]
        var versioned: [AppID] = [], development: [AppID] = []
        let started = ContinuousClock.now
        // Records are large: reached in place through their slots, never copied out.
        var slot = apps.startIndex
        while slot != apps.endIndex {
            if apps.values[slot].isDevelopment {
                development.append(apps.keys[slot])
            } else if apps.values[slot].isInstalled {
                versioned.append(apps.keys[slot])
                apps.values[slot].beginCheck(at: started)
            }
            apps.formIndex(after: &slot)
        }
        batchingEvents {
            for app in development { results[app] = reportDevelopment(app) }
        }
        guard !versioned.isEmpty else { return results }
        let index: RepositoryIndex
        do {
            index = try await refreshIndex()
        } catch {
            failCheck(of: versioned, error)
            throw error
        }
        results.reserveCapacity(versioned.count + development.count)
        let now = now()
        // In table order: events of different apps are independent, and sorting 10,000
        // ids was a third of an unchanged check.
        batchingEvents {
            for app in versioned {
                results[app] = evaluate(app, against: index, now: now)
            }
        }
        return results
    }

    private func reportDevelopment(_ app: AppID) -> CheckResult {
        let result = CheckResult(hasUpdate: false, version: nil)
        apps[app]?.lastCheckResult = result
        emit(app, .checked(hasUpdate: false, version: nil))
        return result
    }

    private func failCheck(of apps: [AppID], _ error: any Error) {
        let failure = UpdateError(wrapping: error)
        batchingEvents {
            for app in apps where self.apps[app] != nil {
                if self.apps[app]?.phase == .checking { self.apps[app]?.phase = .idle }
                emit(app, .failed(version: nil, error: failure))
            }
        }
    }

    /// Compares one app with the index, announces the outcome and starts a download if needed.
    func evaluate(_ app: AppID, against index: RepositoryIndex, now: Int64) -> CheckResult {
        // Changed in place: copying each record out and back was a large part of a
        // 10,000-app check.
        guard let slot = apps.index(forKey: app) else { return CheckResult(hasUpdate: false, version: nil) }
        let (result, clearedError) = apps.values[slot].recordCheck(against: index, now: now)
        if clearedError { save(app) }
        let offered = result.version
        emit(app, .checked(hasUpdate: result.hasUpdate, version: offered))
        if let offered, let release = index.apps[app] {
            if apps.values[slot].persisted.staged == offered {
                emit(app, .ready(version: offered))
            } else {
                _ = startDownload(app, release)
            }
        }
        return result
    }

    /// The current index: fetched now, or the result of the fetch already in flight.
    func refreshIndex() async throws -> RepositoryIndex {
        if let pending = pendingIndexRefresh { return try await pending.value() }
        let shared = SharedResult<RepositoryIndex>()
        pendingIndexRefresh = shared
        if !enqueue(.refreshIndex(shared)) {
            pendingIndexRefresh = nil
            shared.complete(.failure(UpdateError(.shuttingDown, "the engine is stopping")))
        }
        return try await shared.value()
    }

    func performIndexRefresh(_ shared: SharedResult<RepositoryIndex>) async {
        let result: Result<RepositoryIndex, any Error>
        do {
            result = .success(try await fetchIndex())
        } catch {
            let failure = UpdateError(wrapping: error)
            if failure.code != .cancelled, failure.code != .shuttingDown {
                repositoryState.lastError = failure
                repositoryState.history.record(HistoryEntry(time: now(), event: .failed, detail: failure.description), limit: configuration.limits.historyLength)
                saveRepositoryState()
                logger.error("repository check failed: \(failure.message)", metadata: ["code": "\(failure.code)", "message-id": "\(MessageID.updateFailed)"])
            }
            result = .failure(error)
        }
        pendingIndexRefresh = nil
        shared.complete(result)
    }

    /// Fetches the index, conditionally when one is cached, and verifies it.
    private func fetchIndex() async throws -> RepositoryIndex {
        await decodeDeferredIndex()
        let conditions = currentIndex == nil ? nil : repositoryState.validators
        let request = FetchRequest(path: SignedIndex.fileName, ifNoneMatch: conditions)
        let generation = configurationGeneration
        let (outcome, bytes) = try await transport.fetchSmall(request, limit: configuration.limits.maximumIndexSize, tooLarge: .indexTooLarge)
        // A reload during the fetch may have changed the repository or the keys: this
        // answer belongs to the old configuration and must not become the new baseline.
        guard generation == configurationGeneration else {
            throw UpdateError(.cancelled, "the configuration changed during the check; check again")
        }
        let now = now()
        switch outcome {
        case .notModified:
            guard let index = currentIndex else {
                throw UpdateError(.httpStatus, "the repository answered 'not modified' to an unconditional request")
            }
            // An unchanged index still expires: a frozen repository is refused.
            guard index.expires > now else {
                throw UpdateError(.indexExpired, "index serial \(index.serial) expired at \(index.expires) (now \(now))")
            }
            repositoryState.lastCheck = now
            repositoryState.lastError = nil
            repositoryState.history.record(HistoryEntry(time: now, event: .notModified, detail: "serial \(index.serial)"), limit: configuration.limits.historyLength)
            saveRepositoryState()
            return index
        case .fetched(let validators):
            let verified = try await Self.verify(bytes, with: verifier, now: now, lastAccepted: repositoryState.accepted)
            guard generation == configurationGeneration else {
                throw UpdateError(.cancelled, "the configuration changed during the check; check again")
            }
            if verified.accepted != repositoryState.accepted {
                try FileSystem.writeAtomically(bytes, to: layout.cachedIndex)
            }
            repositoryState.location = transport.location
            repositoryState.accepted = verified.accepted
            repositoryState.validators = validators.isEmpty ? nil : validators
            repositoryState.lastCheck = now
            repositoryState.lastError = nil
            repositoryState.history.record(HistoryEntry(time: now, event: .fetched, detail: "serial \(verified.index.serial), key \(verified.keyID)"), limit: configuration.limits.historyLength)
            saveRepositoryState()
            currentIndex = verified.index.sharingIDs(with: apps)
            return verified.index
        }
    }

    /// Decodes the cached index that a start from the snapshot left on disk, verifying it
    /// with today's keys. If it no longer verifies, the fetch that follows is unconditional.
    private func decodeDeferredIndex() async {
        guard deferredIndex != nil else { return }
        let generation = configurationGeneration
        let loader = StateLoader(layout: layout, configuration: configuration, verifier: verifier, logger: logger)
        let index = try? await loader.decodeCachedIndex(accepted: repositoryState.accepted)
        // A reload meanwhile decided afresh (it may have dropped the index).
        guard generation == configurationGeneration, deferredIndex != nil else { return }
        deferredIndex = nil
        currentIndex = index?.sharingIDs(with: apps)
    }

    /// Signature checks and JSON decoding of a large index take milliseconds: keep them off the actor.
    private nonisolated static func verify(_ bytes: [UInt8], with verifier: IndexVerifier, now: Int64, lastAccepted: IndexVerifier.Accepted?) async throws -> IndexVerifier.Verified {
        try verifier.verify(bytes, now: now, lastAccepted: lastAccepted)
    }
}

extension UpdateError {
    /// Any error as an `UpdateError`; cancellation becomes `cancelled`.
    public init(wrapping error: any Error) {
        if let error = error as? UpdateError {
            self = error
        } else if error is CancellationError {
            self.init(.cancelled, "cancelled")
        } else {
            self.init(.io, "\(error)")
        }
    }
}
