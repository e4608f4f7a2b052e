import ArgumentParser
import Logging
import MiniupdateDaemon
import MiniupdateSystemd

#if canImport(Glibc)
import Glibc
#endif

@main
struct MiniupdatedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "miniupdated",
        abstract: "The miniupdate daemon: checks, downloads and stages updates of every installed mini app, and serves clients on a Unix socket.",
        discussion: "Flags override the configuration file; see miniupdated(8) and docs/configuration.md.",
        version: Daemon.version
    )

    @Option(name: .long, help: ArgumentHelp("The configuration file; a missing file means the defaults.", valueName: "FILE"))
    var config = DaemonConfiguration.defaultConfigPath

    @Option(name: .long, help: ArgumentHelp("Installed apps and durable state (default /var/lib/miniupdate).", valueName: "DIR"))
    var stateDir: String?

    @Option(name: .long, help: ArgumentHelp("Downloads (default /var/cache/miniupdate).", valueName: "DIR"))
    var cacheDir: String?

    @Option(name: .long, help: ArgumentHelp("The socket to serve (default $MINIUPDATE_SOCKET, else /run/miniupdate/miniupdate.sock).", valueName: "PATH"))
    var socket: String?

    @Option(name: .long, help: ArgumentHelp("The repository: file:///path, http://… or https://….", valueName: "URL"))
    var repository: String?

    @Option(name: .long, help: ArgumentHelp("A trusted public key file; may be repeated. Replaces the file's keys.", valueName: "FILE"))
    var trustedKey: [String] = []

    @Option(name: .long, help: ArgumentHelp("trace, debug, info, notice, warning, error or critical.", valueName: "LEVEL"))
    var logLevel: String?

    static func main() async {
        // Before any task runs: every task of the daemon then runs on the event loops.
        Daemon.runTasksOnEventLoops()
        await main(nil)
    }

    func validate() throws {
        if let logLevel, Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level must be trace, debug, info, notice, warning, error or critical")
        }
    }

    func run() async throws {
        let flags = DaemonFlags(
            configPath: config, stateDirectory: stateDir, cacheDirectory: cacheDir, socket: socket,
            repository: repository, trustedKeys: trustedKey, logLevel: logLevel.flatMap(Logger.Level.init(rawValue:))
        )
        // Under systemd: structured entries to the journal, and the notify protocol.
        // Anywhere else: plain lines on stderr, and readiness in the log.
        if JournalLogHandler.isStandardErrorJournal {
            LoggingSystem.bootstrap { _ in
                var handler = JournalLogHandler(identifier: "miniupdated")
                handler.logLevel = .trace
                return handler
            }
        } else {
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = .trace
                return handler
            }
        }
        let logger = Logger(label: "miniupdated")
        do {
            let notifier: (any LifecycleNotifier)? = SystemdNotifier.isAvailable ? SystemdNotifier() : nil
            try await Daemon(flags: flags, logger: logger, notifier: notifier, inheritedSocket: SocketActivation.inheritedSocket()).run()
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(1)
        }
    }
}
