import Foundation
import Logging
import MiniupdateCore
import MiniupdateEngine
import MiniupdateRepository
import MiniupdateTestSupport
import Synchronization
import Testing

/// A repository, state and cache directories, an optional loopback HTTP server, and an
/// engine over them, running for the duration of a test.
struct EngineHarness: Sendable {
    let repo: RepositoryFixture
    let state: TemporaryDirectory
    let server: TestHTTPServer?

    static func make(http: Bool) async throws -> EngineHarness {
        let repo = try RepositoryFixture()
        try FileManager.default.createDirectory(atPath: repo.repositoryPath, withIntermediateDirectories: true)
        let server = http ? try await TestHTTPServer(root: repo.repositoryPath) : nil
        return EngineHarness(repo: repo, state: try TemporaryDirectory("miniupdate-state"), server: server)
    }

    var repositoryURL: String { server?.baseURL ?? repo.fileURL }

    func configuration(limits: EngineLimits = EngineLimits(), keys: [RepositoryPublicKey]? = nil, wallClock: WallClock = .system) -> EngineConfiguration {
        EngineConfiguration(
            stateDirectory: state.sub("state"), cacheDirectory: state.sub("cache"),
            repository: repositoryURL, trustedKeys: keys ?? [repo.publicKey], limits: limits, wallClock: wallClock
        )
    }

    func makeEngine(limits: EngineLimits = EngineLimits(), keys: [RepositoryPublicKey]? = nil, wallClock: WallClock = .system, logger: Logger? = nil) async throws -> UpdateEngine {
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        return try await UpdateEngine(configuration: configuration(limits: limits, keys: keys, wallClock: wallClock), logger: logger ?? quiet)
    }

    /// Runs `body` with an engine whose background work runs until `body` returns.
    @discardableResult
    func withEngine<T: Sendable>(limits: EngineLimits = EngineLimits(), keys: [RepositoryPublicKey]? = nil, _ body: @Sendable (UpdateEngine, EventRecorder) async throws -> T) async throws -> T {
        let engine = try await makeEngine(limits: limits, keys: keys)
        return try await Self.run(engine, body)
    }

    static func run<T: Sendable>(_ engine: UpdateEngine, _ body: @Sendable (UpdateEngine, EventRecorder) async throws -> T) async throws -> T {
        let recorder = EventRecorder()
        let events = engine.events()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await engine.run() }
            group.addTask { for await event in events { recorder.append(event) } }
            defer { group.cancelAll() }
            return try await body(engine, recorder)
        }
    }

    func current(_ app: String) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: state.sub("state/apps/\(app)/current"))
    }

    func installedFile(_ app: String, _ name: String = "index.html") -> String? {
        readText(state.sub("state/apps/\(app)/current/\(name)"))
    }

    func versionsOnDisk(_ app: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: state.sub("state/apps/\(app)/versions"))) ?? []).sorted()
    }

    func remove() async {
        try? await server?.shutdown()
        repo.remove()
        state.remove()
    }
}

/// Collects engine events and waits for the ones a test expects.
final class EventRecorder: Sendable {
    private let events = Mutex<[EngineEvent]>([])

    func append(_ event: EngineEvent) { events.withLock { $0.append(event) } }

    var all: [EngineEvent] { events.withLock { $0 } }

    func of(_ app: String) -> [EngineEvent.Kind] { all.filter { $0.app.rawValue == app }.map(\.kind) }

    /// Waits until an event of `app` matches, for at most `timeout`.
    @discardableResult
    func wait(for app: String, timeout: Duration = .seconds(20), sourceLocation: SourceLocation = #_sourceLocation, _ matches: (EngineEvent.Kind) -> Bool) async throws -> EngineEvent.Kind {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let found = of(app).first(where: matches) { return found }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("no matching event for \(app); saw \(of(app))", sourceLocation: sourceLocation)
        throw CancellationError()
    }
}

extension EngineEvent.Kind {
    var isReady: Bool { if case .ready = self { true } else { false } }
    var isFailed: Bool { if case .failed = self { true } else { false } }
    var failureCode: UpdateError.Code? { if case .failed(_, let error) = self { error.code } else { nil } }
    var isProgress: Bool { if case .progress = self { true } else { false } }
}

func version(_ text: String) -> Version { try! Version(text) }
func appID(_ text: String) -> AppID { try! AppID(text) }
