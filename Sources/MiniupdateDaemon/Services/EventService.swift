import MiniupdateServer
import ServiceLifecycle

/// Carries engine events to subscribed clients.
struct EventService: Service, CustomStringConvertible {
    let server: UpdateServer
    var description: String { "events" }

    func run() async throws {
        await cancelWhenGracefulShutdown { await server.forwardEvents() }
    }
}
