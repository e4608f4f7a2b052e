import Logging
import MiniupdateCore
import MiniupdateEngine
import MiniupdateProtocol
import MiniupdateRepository
import NIOCore

/// Translates protocol requests into engine calls and engine results into responses. It
/// holds no state of its own: subscriptions live in the hub, everything else in the engine.
///
/// A request's response is sent after the events its engine call emitted (the hub has
/// passed them on first), so a client hears `onCheckForUpdate` before the
/// `checkForUpdate` response and `onUpdateApplied` before the `applyUpdate` one. Only
/// `subscribe` answers first: its response, then the replay.
struct RequestDispatcher: Sendable {
    let engine: UpdateEngine
    let hub: SubscriptionHub
    let statusCache: StatusCache
    let options: ServerOptions
    let daemonVersion: String
    let logger: Logger
    let accessPolicy: AccessPolicyBox
    let daemonState: DaemonStateBox

    /// What ``immediateAnswer(to:from:)`` decided.
    enum ImmediateAnswer {
        /// The request needs the engine or may wait: hand it to a request task.
        case needsTask
        /// Answered at once: the line to send, or nil for a notification.
        case answered(ByteBuffer?)
    }

    /// Answers `request` on the connection's event loop when that needs neither the engine
    /// nor a wait: a request whose method or params did not decode, an `unsubscribe`, and
    /// a `status` the cache holds. Such a call causes no event, so answering at once keeps
    /// the order the protocol promises, and it saves the hop to a request task and back
    /// (about half of such a round trip).
    func immediateAnswer(to request: IncomingRequest, from connection: ClientConnection) -> ImmediateAnswer {
        switch request.request {
        case .failure(let error):
            return .answered(request.id.map { ByteBuffer(bytes: encodeLine(RPCErrorResponse(id: $0, error: error))) })
        case .success(.status):
            guard let id = request.id, let response = statusCache.response(to: id, key: statusKey) else { return .needsTask }
            return .answered(response)
        case .success(.unsubscribe(let method)):
            let line: ByteBuffer
            do {
                try unsubscribe(method, connection: connection)
                line = encodeResponseLine(id: request.id ?? .number(0), encodedResult: Self.emptyResult)
            } catch {
                line = ByteBuffer(bytes: encodeLine(RPCErrorResponse(id: request.id, error: error)))
            }
            return .answered(request.id == nil ? nil : line)
        case .success:
            return .needsTask
        }
    }

    private func unsubscribe(_ method: Method.Unsubscribe, connection: ClientConnection) throws(RPCError) {
        hub.unsubscribe(connection, from: try appID(method.app, of: method).rawValue)
    }

    /// Runs `request` and returns the response line, or nil if there is none to send (a
    /// notification, or a subscribe whose response the hub sent with the replay).
    func handle(_ request: IncomingRequest, from connection: ClientConnection) async -> ByteBuffer? {
        await answer(request, from: connection, inBatch: false)
    }

    /// Runs a batch's messages one after another and returns their answers as one array
    /// line, or nil when none has an answer (all notifications, or responses).
    func handle(batch: [IncomingMessage], from connection: ClientConnection) async -> ByteBuffer? {
        var answers: [ByteBuffer] = []
        for message in batch {
            switch message {
            case .request(let request):
                if let line = await answer(request, from: connection, inBatch: true) { answers.append(line) }
            case .invalid(let response):
                answers.append(ByteBuffer(bytes: encodeLine(response)))
            case .ignored:
                break
            }
        }
        return answers.isEmpty ? nil : encodeBatchLine(answers)
    }

    private func answer(_ request: IncomingRequest, from connection: ClientConnection, inBatch: Bool) async -> ByteBuffer? {
        let outcome: Result<ByteBuffer?, RPCError>
        do {
            outcome = .success(try await execute(request.request.get(), id: request.id, connection: connection, inBatch: inBatch))
        } catch let error as RPCError {
            outcome = .failure(error)
        } catch let error as UpdateError {
            outcome = .failure(RPCError(error))
        } catch {
            outcome = .failure(RPCError(code: RPCErrorCode.internalError, message: "\(error)"))
        }
        // Whatever the call emitted reaches this client first, success or failure.
        await hub.publishedEvents.wait(through: engine.eventSequence)
        guard let id = request.id else { return nil }
        switch outcome {
        case .success(let line): return line
        case .failure(let error): return ByteBuffer(bytes: encodeLine(RPCErrorResponse(id: id, error: error)))
        }
    }

    /// `{}`, the result of the methods that return nothing.
    private static let emptyResult = encodeLine(Empty()).dropLast()

    private func execute(_ request: ClientRequest, id: RPCID?, connection: ClientConnection, inBatch: Bool) async throws -> ByteBuffer? {
        let responseID = id ?? .number(0)
        func respond<Method: RPCMethod>(_: Method, _ result: Method.Result) -> ByteBuffer {
            ByteBuffer(bytes: encodeLine(RPCResponse(id: responseID, result: result)))
        }
        func respondEmpty() -> ByteBuffer { encodeResponseLine(id: responseID, encodedResult: Self.emptyResult) }

        try authorize(request, connection: connection)
        switch request {
        case .subscribe(let method):
            let app = try appID(method.app, of: method)
            // Decided under the lock, without copying the connection's subscriptions.
            let limit = options.maximumSubscriptionsPerConnection
            guard connection.subscriptions.withLock({ $0.count < limit || $0.contains(app.rawValue) }) else {
                throw RPCError(.tooManySubscriptions, "a connection may subscribe to at most \(limit) apps (max-subscriptions)")
            }
            var outcome = SubscriptionHub.SubscribeOutcome.stale
            var line: [UInt8] = []
            // The response must describe the app as of the replay that follows it: if an
            // event slipped in while the status was read, read it again.
            for attempt in 1...5 where outcome == .stale {
                let sequence = hub.sequence(of: app.rawValue)
                let status = try? await engine.status(of: app)
                let result = SubscribeResult(app: app.rawValue, version: status?.installedVersion?.text, state: (status?.state ?? .notInstalled).rawValue)
                line = id == nil ? [] : encodeLine(RPCResponse(id: responseID, result: result))
                // In a batch the response goes in the batch's array: the hub sends only the replay.
                outcome = hub.subscribe(connection, to: app.rawValue, ifSequence: attempt < 5 ? sequence : nil, response: inBatch ? [] : line)
            }
            if outcome == .subscribed(coldStart: true) {
                // The app's cold start: the seed's platform checks on every one.
                await engine.requestColdStartCheck(app, staleAfter: options.checkInterval, retryAfter: options.checkRetryInterval)
            }
            return inBatch && !line.isEmpty ? ByteBuffer(bytes: line) : nil
        case .unsubscribe(let method):
            try unsubscribe(method, connection: connection)
            return respondEmpty()
        case .checkForUpdate(let method):
            if let name = method.app {
                let app = try appID(name, of: method)
                let result = try await engine.check(app)
                return respond(method, CheckForUpdateResult(single: CheckResultPayload(app: app.rawValue, hasUpdate: result.hasUpdate, version: result.version?.text)))
            }
            let results = try await engine.checkAll()
            return respond(method, CheckForUpdateResult(all: results.sorted { $0.key < $1.key }.map {
                CheckResultPayload(app: $0.key.rawValue, hasUpdate: $0.value.hasUpdate, version: $0.value.version?.text)
            }))
        case .applyUpdate(let method):
            return respond(method, ApplyResultPayload(try await engine.applyUpdate(appID(method.app, of: method))))
        case .install(let method):
            return respond(method, ApplyResultPayload(try await engine.install(appID(method.app, of: method))))
        case .rollback(let method):
            return respond(method, ApplyResultPayload(try await engine.rollback(appID(method.app, of: method))))
        case .status:
            let (result, key) = await statusResult()
            let encoded = Array(encodeLine(result).dropLast())
            statusCache.store(encoded, key: key)
            return encodeResponseLine(id: responseID, encodedResult: encoded)
        case .simulate(let method):
            try await engine.simulate(appID(method.app, of: method), SimulatedOutcome(method.outcome))
            return respondEmpty()
        }
    }

    /// Refuses a method the peer may not call, with `not-permitted`, and logs who asked.
    private func authorize(_ request: ClientRequest, connection: ClientConnection) throws {
        // Most requests (subscribe, status) are open to all.
        guard let policy = accessPolicy.current, request.access != .everyone else { return }
        if let peer = connection.peer, policy.permits(request, peer: peer) { return }
        let who = connection.peer.map(\.description) ?? "an unidentified peer"
        logger.warning("refused \(request.name) from \(who)", metadata: [
            "method": "\(request.name)", "app": "\(request.app ?? "")",
            "peer_uid": "\(connection.peer.map { String($0.uid) } ?? "?")", "peer_pid": "\(connection.peer.map { String($0.pid) } ?? "?")",
        ])
        throw RPCError(.notPermitted, "\(request.name) is not permitted for \(who): it needs \(policy.describe(request.access))")
    }

    private func appID<Method: RPCMethod>(_ text: String, of _: Method) throws(RPCError) -> AppID {
        do {
            return try AppID(text)
        } catch {
            let refusal = error as? UpdateError ?? UpdateError(.invalidAppID, "\(error)")
            throw RPCError(code: RPCErrorCode.invalidParams, message: "invalid params for \(Method.name): app: \(refusal.message)", reason: refusal.code)
        }
    }

    /// What a cached status would be computed from now.
    var statusKey: StatusCache.Key {
        StatusCache.Key(engine: engine.statusGeneration, daemon: daemonState.generation, clients: hub.connectionCount)
    }

    /// The status, with the key it was computed from.
    func statusResult() async -> (StatusResult, key: StatusCache.Key) {
        let clients = hub.connectionCount
        let daemonGeneration = daemonState.generation
        let status = await engine.status()
        let apps = status.apps.map(AppStatusPayload.init)
        let counts = DaemonStatusPayload.Counts(
            apps: apps.count,
            updatesReady: status.apps.filter { $0.stagedVersion != nil }.count,
            downloading: status.apps.filter { $0.state == .downloading }.count,
            failed: status.apps.filter { $0.state == .failed }.count,
            clients: clients
        )
        let result = StatusResult(daemon: DaemonStatusPayload(
            version: daemonVersion, repository: status.repository, serial: status.serial, indexExpires: status.indexExpires,
            lastCheck: status.lastCheck, lastError: status.lastError.map(ErrorPayload.init),
            reloadError: daemonState.reloadError.map(ErrorPayload.init), counts: counts
        ), apps: apps)
        return (result, StatusCache.Key(engine: status.generation, daemon: daemonGeneration, clients: clients))
    }
}

extension SimulatedOutcome {
    init(_ outcome: Method.Simulate.Outcome) {
        switch outcome {
        case .ready: self = .ready
        case .failed: self = .failed
        case .noUpdate: self = .noUpdate
        }
    }
}

extension ApplyResultPayload {
    init(_ result: ApplyResult) {
        self.init(app: result.app.rawValue, version: result.version.text, previousVersion: result.previousVersion?.text, simulated: result.simulated ? true : nil)
    }
}

extension AppStatusPayload {
    init(_ status: AppStatus) {
        self.init(
            app: status.app.rawValue, state: status.state.rawValue, installedVersion: status.installedVersion?.text,
            development: status.isDevelopment, availableVersion: status.availableVersion?.text,
            stagedVersion: status.stagedVersion?.text, previousVersion: status.previousVersion?.text,
            heldBackVersion: status.heldBackVersion?.text,
            lastCheck: status.lastCheck, lastError: status.lastError.map(ErrorPayload.init),
            progress: status.progress.map { ProgressPayload(bytes: $0.bytes, total: $0.total, version: $0.version.text) }
        )
    }
}
