import FoundationEssentials
import Logging
import MiniupdateEngine
import MiniupdateProtocol
import MiniupdateRepository
import NIOCore

/// Translates protocol requests into engine calls and engine results into responses. It
/// holds no state of its own: subscriptions live in the hub, everything else in the engine.
struct RequestDispatcher: Sendable {
    let engine: UpdateEngine
    let hub: SubscriptionHub
    let statusCache: StatusCache
    let options: ServerOptions
    let daemonVersion: String
    let logger: Logger
    let accessPolicy: AccessPolicyBox

    /// A request whose envelope is valid, with its params decoded in the same pass.
    struct Request: Sendable {
        var id: RPCID?
        var method: String
        var params: Result<RequestParams, RPCParamsError>

        /// Whether it may take long (network, downloads) and so runs beside later requests.
        var isSlow: Bool { method == Method.checkForUpdate || method == Method.install }

        /// The params, or the "invalid params" answer when they do not fit the method.
        func decodedParams() throws(RPCError) -> RequestParams {
            switch params {
            case .success(let params): return params
            case .failure(let error): throw RPCError(code: RPCErrorCode.invalidParams, message: "invalid params for \(method): \(error)")
            }
        }
    }

    /// Shared by every event loop: each `decode` works on its own state, and nothing
    /// changes the options.
    private static let decoder = JSONDecoder()

    /// Parses a line, envelope and params; returns the error response to send when it is
    /// not a valid request (nil when nothing must be sent, as for a stray response).
    func parse(_ line: [UInt8]) -> Result<Request, RPCErrorResponse>? {
        do {
            try StrictJSON.validate(line)
        } catch {
            return .failure(RPCErrorResponse(id: nil, error: RPCError(code: RPCErrorCode.parseError, message: "parse error: \((error as? UpdateError)?.message ?? "\(error)")")))
        }
        let incoming: RPCIncoming
        do {
            incoming = try Self.decoder.decode(RPCIncoming.self, from: Data(line))
        } catch {
            let isJSON = (try? JSONSerializationCheck.isValidJSON(line)) ?? false
            return .failure(RPCErrorResponse(id: nil, error: RPCError(
                code: isJSON ? RPCErrorCode.invalidRequest : RPCErrorCode.parseError,
                message: isJSON ? "invalid request: expected a JSON-RPC 2.0 object" : "parse error: not valid JSON"
            )))
        }
        if incoming.method == nil, incoming.hasResult || incoming.hasError { return nil }
        guard incoming.jsonrpc == "2.0", let method = incoming.method else {
            return .failure(RPCErrorResponse(id: incoming.id, error: RPCError(code: RPCErrorCode.invalidRequest, message: "invalid request: \"jsonrpc\" must be \"2.0\" and \"method\" a string")))
        }
        return .success(Request(id: incoming.id, method: method, params: incoming.params))
    }

    /// Runs `request` and returns the response line, or nil if there is none to send
    /// (a notification, or a subscribe whose response the hub sent with the replay).
    func handle(_ request: Request, from connection: ClientConnection) async -> ByteBuffer? {
        let outcome: Result<ByteBuffer?, RPCError>
        do {
            outcome = .success(try await execute(request, connection: connection))
        } catch let error as RPCError {
            outcome = .failure(error)
        } catch let error as UpdateError {
            outcome = .failure(RPCError(reason: error.code.rawValue, message: error.message))
        } catch {
            outcome = .failure(RPCError(code: RPCErrorCode.internalError, message: "\(error)"))
        }
        guard let id = request.id else { return nil }
        switch outcome {
        case .success(let line): return line
        case .failure(let error): return ByteBuffer(bytes: encodeLine(RPCErrorResponse(id: id, error: error)))
        }
    }

    /// `{}`, the result of the methods that return nothing.
    private static let emptyResult = encodeLine(Empty()).dropLast()

    private func execute(_ request: Request, connection: ClientConnection) async throws -> ByteBuffer? {
        let id = request.id ?? .number(0)
        func respond(_ result: some Codable & Sendable) -> ByteBuffer { ByteBuffer(bytes: encodeLine(RPCResponse(id: id, result: result))) }
        func respondEmpty() -> ByteBuffer { encodeResponseLine(id: id, encodedResult: Self.emptyResult) }

        try authorize(request, connection: connection)
        // RPCIncoming decodes each method's params by the same table as this switch.
        switch (request.method, try request.decodedParams()) {
        case (Method.subscribe, .app(let params)):
            let app = try appID(params.app)
            // Decided under the lock, without copying the connection's subscriptions.
            let limit = options.maximumSubscriptionsPerConnection
            guard connection.subscriptions.withLock({ $0.count < limit || $0.contains(app.rawValue) }) else {
                throw RPCError(reason: "too-many-subscriptions", message: "a connection may subscribe to at most \(options.maximumSubscriptionsPerConnection) apps")
            }
            var status: AppStatus?
            // The response must describe the app as of the replay that follows it: if an
            // event slipped in while the status was read, read it again.
            for attempt in 1...5 {
                let sequence = hub.sequence(of: app.rawValue)
                status = try? await engine.status(of: app)
                let result = SubscribeResult(app: app.rawValue, version: status?.installedVersion?.text, state: (status?.state ?? .notInstalled).rawValue)
                let response = request.id == nil ? [] : encodeLine(RPCResponse(id: id, result: result))
                if hub.subscribe(connection, to: app.rawValue, ifSequence: attempt < 5 ? sequence : nil, response: response) { break }
            }
            // This app's own cold start: check it if its last check is old.
            await engine.requestColdStartCheck(app, staleAfter: options.checkInterval, retryAfter: options.checkRetryInterval)
            return nil
        case (Method.unsubscribe, .app(let params)):
            let app = try appID(params.app)
            hub.unsubscribe(connection, from: app.rawValue)
            return respondEmpty()
        case (Method.checkForUpdate, .check(let params)):
            if let name = params?.app {
                let app = try appID(name)
                let result = try await engine.check(app)
                return respond(CheckForUpdateResult(single: CheckResultPayload(app: app.rawValue, hasUpdate: result.hasUpdate, version: result.version?.text)))
            }
            let results = try await engine.checkAll()
            return respond(CheckForUpdateResult(all: results.sorted { $0.key < $1.key }.map {
                CheckResultPayload(app: $0.key.rawValue, hasUpdate: $0.value.hasUpdate, version: $0.value.version?.text)
            }))
        case (Method.applyUpdate, .app(let params)):
            let app = try appID(params.app)
            do {
                return respond(ApplyResultPayload(try await engine.applyUpdate(app)))
            } catch let error as UpdateError where error.code == .noUpdateReady {
                guard let simulated = hub.takeSimulatedReady(app.rawValue) else { throw error }
                return respond(applySimulated(app, version: simulated))
            }
        case (Method.install, .app(let params)):
            let app = try appID(params.app)
            return respond(ApplyResultPayload(try await engine.install(app)))
        case (Method.rollback, .app(let params)):
            let app = try appID(params.app)
            return respond(ApplyResultPayload(try await engine.rollback(app)))
        case (Method.status, _):
            let (result, generation, clients) = await statusResult()
            let encoded = Array(encodeLine(result).dropLast())
            statusCache.store(encoded, generation: generation, clients: clients)
            return encodeResponseLine(id: id, encodedResult: encoded)
        case (Method.simulate, .simulate(let params)):
            await simulate(try appID(params.app), params.outcome)
            return respondEmpty()
        default:
            throw RPCError(code: RPCErrorCode.methodNotFound, message: "method not found: \(String(request.method.prefix(100)))")
        }
    }

    /// Refuses a method the peer may not call, with `not-permitted`, and logs who asked.
    private func authorize(_ request: Request, connection: ClientConnection) throws {
        // Most requests (subscribe, status) are open to all.
        guard let policy = accessPolicy.current, AccessPolicy.adminMethods.contains(request.method) else { return }
        // Params that do not fit are refused as such once the peer may call the method.
        let app = try? request.params.get().app
        if let peer = connection.peer, policy.permits(request.method, app: app, peer: peer) { return }
        let who = connection.peer.map(\.description) ?? "an unidentified peer"
        logger.warning("refused \(request.method) from \(who)", metadata: [
            "method": "\(request.method)", "app": "\(app ?? "")",
            "peer_uid": "\(connection.peer.map { String($0.uid) } ?? "?")", "peer_pid": "\(connection.peer.map { String($0.pid) } ?? "?")",
        ])
        throw RPCError(reason: "not-permitted", message: "\(request.method) is not permitted for \(who)")
    }

    private func appID(_ text: String) throws -> AppID {
        do {
            return try AppID(text)
        } catch let error as UpdateError {
            throw RPCError(code: RPCErrorCode.invalidParams, message: error.message, reason: error.code.rawValue)
        }
    }

    /// The status, with the engine's generation and the client count it was computed from.
    func statusResult() async -> (StatusResult, generation: UInt64, clients: Int) {
        let clients = hub.connectionCount
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
            lastCheck: status.lastCheck, lastError: status.lastError.map(ErrorPayload.init), counts: counts
        ), apps: apps)
        return (result, status.generation, clients)
    }

    /// Sends `app`'s subscribers the events of a made-up update, touching neither the
    /// repository nor the disk, so developers can try their update UI.
    private func simulate(_ app: AppID, _ outcome: SimulateParams.Outcome) async {
        let name = app.rawValue
        func send(_ method: String, _ params: some Codable & Sendable) {
            hub.send(encodeLine(RPCNotification(method: method, params: params)), to: name)
        }
        /// The installed version's next patch; only an update needs one.
        func madeUpVersion() async -> String {
            let installed = (try? await engine.status(of: app))?.installedVersion
            return installed.map { "\($0.major).\($0.minor).\($0.patch + 1)-simulated" } ?? "1.0.0-simulated"
        }
        switch outcome {
        case .noUpdate:
            send(Notification.onCheckForUpdate, CheckForUpdateEvent(app: name, hasUpdate: false, version: nil))
        case .ready:
            let version = await madeUpVersion()
            send(Notification.onCheckForUpdate, CheckForUpdateEvent(app: name, hasUpdate: true, version: version))
            for step in 0...4 {
                send(Notification.onDownloadProgress, DownloadProgressEvent(app: name, version: version, bytes: Int64(step) * 250_000, total: 1_000_000))
            }
            hub.setSimulatedReady(name, version: version)
            send(Notification.onUpdateReady, UpdateReadyEvent(app: name, version: version))
        case .failed:
            let version = await madeUpVersion()
            send(Notification.onCheckForUpdate, CheckForUpdateEvent(app: name, hasUpdate: true, version: version))
            let error = ErrorPayload(code: RPCErrorCode.number(forReason: "simulated"), reason: "simulated", message: "simulated failure")
            send(Notification.onUpdateFailed, UpdateFailedEvent(app: name, version: version, error: error))
        }
    }

    private func applySimulated(_ app: AppID, version: String) -> ApplyResultPayload {
        let name = app.rawValue
        let result = ApplyResultPayload(app: name, version: version, previousVersion: nil, simulated: true)
        hub.send(encodeLine(RPCNotification(method: Notification.onUpdateApplied, params: UpdateAppliedEvent(app: name, version: version, previousVersion: nil, simulated: true))), to: name)
        return result
    }
}

/// Tells malformed JSON (a parse error) from well-formed JSON of the wrong shape (an
/// invalid request), as JSON-RPC distinguishes them.
enum JSONSerializationCheck {
    private struct AnyJSON: Decodable {
        init(from decoder: any Decoder) throws {
            if var array = try? decoder.unkeyedContainer() {
                while !array.isAtEnd { _ = try array.decode(AnyJSON.self) }
            } else if let object = try? decoder.container(keyedBy: AnyKey.self) {
                for key in object.allKeys { _ = try object.decode(AnyJSON.self, forKey: key) }
            } else {
                let value = try decoder.singleValueContainer()
                if value.decodeNil() { return }
                if (try? value.decode(Bool.self)) != nil { return }
                if (try? value.decode(Double.self)) != nil { return }
                _ = try value.decode(String.self)
            }
        }
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    static func isValidJSON(_ bytes: [UInt8]) throws -> Bool {
        (try? JSONDecoder().decode(AnyJSON.self, from: Data(bytes))) != nil
    }
}

extension ApplyResultPayload {
    init(_ result: ApplyResult) {
        self.init(app: result.app.rawValue, version: result.version.text, previousVersion: result.previousVersion?.text)
    }
}

extension AppStatusPayload {
    init(_ status: AppStatus) {
        self.init(
            app: status.app.rawValue, state: status.state.rawValue, installedVersion: status.installedVersion?.text,
            development: status.isDevelopment, availableVersion: status.availableVersion?.text,
            stagedVersion: status.stagedVersion?.text, previousVersion: status.previousVersion?.text,
            lastCheck: status.lastCheck, lastError: status.lastError.map(ErrorPayload.init),
            progress: status.progress.map { ProgressPayload(bytes: $0.bytes, total: $0.total, version: $0.version.text) }
        )
    }
}
