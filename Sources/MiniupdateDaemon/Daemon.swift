import Logging
import MiniupdateCore
import MiniupdateEngine
import MiniupdateProtocol
import MiniupdateRepository
import MiniupdateServer
import NIOCore
import ServiceLifecycle
import UnixSignals

/// The whole daemon: engine, socket server, reloads and shutdown, wired with
/// swift-service-lifecycle.
///
/// Start-up order: load the configuration and the state (``UpdateEngine/init``), bind the
/// socket, report ready, then serve and run the cold-start check of every app in the
/// background. Readiness never waits on the network.
public struct Daemon: Sendable {
    /// The command-line settings. ``run()`` loads the configuration from them, and every
    /// reload (SIGHUP) loads it again from them, so an edited file takes effect without a
    /// restart while the flags keep overriding it.
    public let flags: DaemonFlags
    /// Where the daemon logs. It logs through a copy whose level is the configured
    /// `log-level` (`--log-level`), whatever level this one has.
    public let logger: Logger
    /// Where the life cycle is reported; nil: as log lines, at the configured log level.
    public let notifier: (any LifecycleNotifier)?
    /// An already-listening socket to serve instead of binding the path (socket activation).
    public let inheritedSocket: CInt?

    /// A daemon that will run with `flags`; nothing is read or started before ``run()``.
    ///
    /// - Parameters:
    ///   - flags: The command-line settings, which override the configuration file.
    ///   - logger: Where to log; see ``logger``.
    ///   - notifier: Where to report the life cycle, such as systemd's notify protocol;
    ///     nil reports it as log lines (``LoggingNotifier``).
    ///   - inheritedSocket: A listening socket passed by the service manager (socket
    ///     activation), served instead of binding the configured `socket`; nil binds it.
    public init(flags: DaemonFlags, logger: Logger, notifier: (any LifecycleNotifier)? = nil, inheritedSocket: CInt? = nil) {
        self.flags = flags
        self.logger = logger
        self.notifier = notifier
        self.inheritedSocket = inheritedSocket
    }

    /// Runs until SIGTERM or SIGINT (or cancellation), then shuts down gracefully.
    ///
    /// Loads the configuration from ``flags`` first, so it throws what
    /// ``DaemonConfiguration/load(_:environment:)`` throws (such as
    /// `invalid-argument` for a bad setting) before anything starts, and
    /// then what ``run(configuration:)`` throws.
    public func run() async throws {
        try await run(configuration: DaemonConfiguration.load(flags))
    }

    /// Runs with `configuration`, already loaded from ``flags`` (a reload loads them again).
    ///
    /// Returns once every service has stopped after SIGTERM, SIGINT or cancellation. Throws
    /// when the daemon cannot start: `in-use` when another daemon holds
    /// the state or cache directory, `invalid-argument` when another
    /// daemon already serves the socket path or the path is not a socket,
    /// `io` (or NIO's error) when the socket cannot be bound, adopted or
    /// given its mode. When the socket fails, the already-opened engine is closed first.
    public func run(configuration: DaemonConfiguration) async throws {
        var logger = self.logger
        logger.logLevel = configuration.logLevel
        let notifier = self.notifier ?? LoggingNotifier(logger: logger)
        if Self.executorTakeOverFailed.load(ordering: .relaxed) {
            logger.warning("Swift tasks run on libdispatch's pool: the concurrency runtime's executor hook was not found, so the idle daemon wakes once a second")
        }
        OpenFileLimit.raise(toServe: configuration.server.maximumConnections, logger: logger)
        MemoryPolicy.apply()
        let engine = try await UpdateEngine(configuration: configuration.engine, logger: logger)
        let server = UpdateServer(engine: engine, options: configuration.server, daemonVersion: MiniupdateRelease.version, logger: logger)
        let listener: UpdateServer.Listener
        do {
            if let inheritedSocket {
                listener = try await server.adopt(descriptor: inheritedSocket)
            } else {
                listener = try await server.bind(path: configuration.socketPath)
            }
        } catch {
            // The engine will never run: release its connections and its directories now.
            await engine.close()
            throw error
        }
        let apps = await engine.installedAppCount
        logger.info("serving \(inheritedSocket == nil ? configuration.socketPath : "an inherited socket") for \(apps) apps, repository \(configuration.engine.repository.isEmpty ? "(none)" : configuration.engine.repository)")
        // With no app there is nothing to check and no event will come to update it.
        notifier.status(apps == 0 ? StatusService.describe(await engine.status()) : "Checking \(apps) apps")
        notifier.ready()
        await engine.requestCheckAll()

        var services: [any Service] = [
            EngineService(engine: engine),
            EventService(server: server),
            StatusService(engine: engine, notifier: notifier, reloadError: { server.reloadError }),
            MemoryReleaseService(engine: engine),
            SocketService(server: server, listener: listener, notifier: notifier),
            ReloadService(flags: flags, engine: engine, server: server, notifier: notifier, logger: logger),
        ]
        if let interval = notifier.watchdogInterval {
            services.append(WatchdogService(engine: engine, notifier: notifier, interval: interval / 2, logger: logger))
        }
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await group.run()
        logger.info("stopped")
    }
}
