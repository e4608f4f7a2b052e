import MiniupdateServer
import ServiceLifecycle

/// Serves the socket; it is the first to stop, saying goodbye to every client.
struct SocketService: Service, CustomStringConvertible {
    let server: UpdateServer
    let listener: UpdateServer.Listener
    let notifier: any LifecycleNotifier
    var description: String { "socket" }

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await server.serve(listener)
        } onGracefulShutdown: {
            notifier.stopping()
        }
    }
}
