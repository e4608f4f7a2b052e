import ArgumentParser
import Logging
import MiniupdateCommandLine
import MiniupdateCore
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
        discussion: """
            Flags override the configuration file; see miniupdated(8) and docs/configuration.md.

            Exit status: 0 after a graceful stop (or a valid --check-config); 78 when the \
            configuration is wrong; 1 when the daemon cannot start for another reason (the \
            socket or a directory is in use, say); 64 for a usage error.
            """,
        version: MiniupdateRelease.version
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

    @Flag(name: .long, help: "Check the configuration (the file, the flags and the trusted keys), print a summary and exit: 0 if it is valid, 78 if not. Starts nothing.")
    var checkConfig = false

    static func main() async {
        // Before any task runs: every task of the daemon then runs on the event loops.
        Daemon.runTasksOnEventLoops()
        await CommandLineTool.main(Self.self)
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
        let configuration: DaemonConfiguration
        do {
            configuration = try DaemonConfiguration.load(flags)
        } catch {
            throw CommandFailure((error as? UpdateError)?.message ?? "\(error)", code: .invalidArgument,
                                 hint: checkConfig ? nil : "nothing was started; after fixing it, 'miniupdated --check-config' checks it", exitCode: ExitStatus.configuration)
        }
        if checkConfig {
            print("miniupdated: \(config) is valid: \(Self.summary(configuration))")
            return
        }
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
            try await Daemon(flags: flags, logger: logger, notifier: notifier, inheritedSocket: SocketActivation.inheritedSocket())
                .run(configuration: configuration)
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(1)
        }
    }

    /// What a valid configuration sets, in one line.
    static func summary(_ configuration: DaemonConfiguration) -> String {
        let repository = configuration.engine.repository.isEmpty ? "no repository" : "repository \(configuration.engine.repository)"
        return "\(repository), \(HumanText.count(configuration.trustedKeyPaths.count, "trusted key")), "
            + "state \(configuration.engine.stateDirectory), cache \(configuration.engine.cacheDirectory), socket \(configuration.socketPath)"
    }
}
