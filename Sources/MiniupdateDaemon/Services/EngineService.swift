import MiniupdateEngine
import ServiceLifecycle

/// Runs the engine's background work until shutdown; cancelling it parks downloads.
struct EngineService: Service, CustomStringConvertible {
    let engine: UpdateEngine
    var description: String { "engine" }

    func run() async throws {
        await cancelWhenGracefulShutdown { await engine.run() }
    }
}
