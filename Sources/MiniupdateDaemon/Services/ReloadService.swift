import Logging
import MiniupdateCore
import MiniupdateEngine
import MiniupdateServer
import ServiceLifecycle
import UnixSignals

/// Reloads the configuration and the trusted keys on SIGHUP, without dropping a client.
struct ReloadService: Service, CustomStringConvertible {
    let flags: DaemonFlags
    let engine: UpdateEngine
    let server: UpdateServer
    let notifier: any LifecycleNotifier
    let logger: Logger
    var description: String { "reload" }

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            notifier.reloading()
            do {
                let configuration = try DaemonConfiguration.load(flags)
                try await engine.reconfigure(configuration.engine)
                server.setAccessPolicy(configuration.accessPolicy)
                server.setReloadError(nil)
                logger.info("reloaded \(flags.configPath): \(configuration.trustedKeyPaths.count) trusted keys")
            } catch {
                let refusal = UpdateError(wrapping: error)
                server.setReloadError(refusal)
                logger.error("reload failed, keeping the running configuration: \(refusal.message)", metadata: ["message-id": "\(MessageID.reloadRejected)"])
            }
            notifier.status(StatusService.describe(await engine.status(), reloadError: server.reloadError))
            notifier.ready()
        }
    }
}
