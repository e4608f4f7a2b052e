import Foundation
import Logging
import MiniupdateEngine
import MiniupdateRepository
import MiniupdateServer
import Testing

/// A repository, an engine and the socket server, in this process, for one test.
public struct ServerHarness: Sendable {
    public let repo: RepositoryFixture
    public let state: TemporaryDirectory
    public let http: TestHTTPServer?
    public var socketPath: String { state.sub("sock") }

    public init(repo: RepositoryFixture, state: TemporaryDirectory, http: TestHTTPServer?) {
        self.repo = repo
        self.state = state
        self.http = http
    }

    public static func make(http: Bool = false) async throws -> ServerHarness {
        let repo = try RepositoryFixture()
        try FileManager.default.createDirectory(atPath: repo.repositoryPath, withIntermediateDirectories: true)
        return ServerHarness(repo: repo, state: try TemporaryDirectory("mu-server"), http: http ? try await TestHTTPServer(root: repo.repositoryPath) : nil)
    }

    public func configuration() -> EngineConfiguration {
        EngineConfiguration(stateDirectory: state.sub("state"), cacheDirectory: state.sub("cache"), repository: http?.baseURL ?? repo.fileURL, trustedKeys: [repo.publicKey])
    }

    /// Runs the server until `body` returns.
    public func serve<T: Sendable>(options: ServerOptions = ServerOptions(), _ body: @Sendable (UpdateEngine, UpdateServer) async throws -> T) async throws -> T {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let engine = try await UpdateEngine(configuration: configuration(), logger: logger)
        let server = UpdateServer(engine: engine, options: options, daemonVersion: "test", logger: logger)
        let listener = try await server.bind(path: socketPath)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await engine.run() }
            group.addTask { await server.forwardEvents() }
            group.addTask { try await server.serve(listener) }
            defer { group.cancelAll() }
            return try await body(engine, server)
        }
    }

    public func current(_ app: String) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: state.sub("state/apps/\(app)/current"))
    }

    public func remove() async {
        try? await http?.shutdown()
        repo.remove()
        state.remove()
    }
}

extension Dictionary where Key == String, Value == Any {
    public var method: String? { self["method"] as? String }
    public var params: [String: Any] { self["params"] as? [String: Any] ?? [:] }
    public var result: [String: Any]? { self["result"] as? [String: Any] }
    public var error: [String: Any]? { self["error"] as? [String: Any] }
    public var errorCode: Int? { error?["code"] as? Int }
    public var errorReason: String? { (error?["data"] as? [String: Any])?["reason"] as? String }
    public var id: Int? { self["id"] as? Int }
}

public func isResponse(_ id: Int) -> ([String: Any]) -> Bool { { $0.id == id } }
public func isEvent(_ method: String) -> ([String: Any]) -> Bool { { $0.method == method } }
