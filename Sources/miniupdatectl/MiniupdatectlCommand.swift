import ArgumentParser
import MiniupdateClient
import MiniupdateCommandLine
import MiniupdateCore
import MiniupdateProtocol

#if canImport(Glibc)
import Glibc
#endif

@main
struct MiniupdatectlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "miniupdatectl",
        abstract: "Control and watch miniupdated, the mini app update daemon.",
        discussion: """
            Every command takes --socket PATH, before or after its name (default \
            $MINIUPDATE_SOCKET, else /run/miniupdate/miniupdate.sock), and those that print \
            take --json (JSON on stdout, also on failure) and -q/--quiet.

            Exit status: 0 on success; 1 when the daemon refused or the operation failed (the \
            reason is printed); 64 for a usage error (an unknown command, a bad app id); 69 when \
            the daemon cannot be reached; 77 when the caller may not do it (the socket's \
            permissions, or not-permitted); 130 when interrupted.
            """,
        version: MiniupdateRelease.version,
        subcommands: [Status.self, Check.self, Install.self, Apply.self, Rollback.self, Watch.self, Simulate.self]
    )

    static func main() async {
        await CommandLineTool.main(Self.self, globalOptions: ["--socket"])
    }
}

/// `--socket`, and a connection that turns failures into ``CommandFailure``s naming the fix.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The daemon's socket (default $MINIUPDATE_SOCKET, else /run/miniupdate/miniupdate.sock).", valueName: "PATH"))
    var socket: String = DaemonClient.defaultSocketPath

    /// Connects, runs `body`, and turns failures into errors that say what to do.
    /// `command` is how the user called it (`install com.example.weather`), for refusals.
    func run<T: Sendable>(_ command: String, _ body: @Sendable (DaemonClient) async throws -> T) async throws -> T {
        do {
            return try await DaemonClient.withConnection(socketPath: socket, body)
        } catch let error as DaemonClientError {
            throw failure(error, command: command)
        }
    }

    func failure(_ error: DaemonClientError, command: String) -> CommandFailure {
        switch error {
        case .unreachable(let path, let reason, let code):
            if code == EACCES || code == EPERM {
                let group = Self.groupOwning(path)
                return CommandFailure(
                    "permission denied on \(path)",
                    hint: group.map { "join the group \($0), which may use the socket: sudo usermod -aG \($0) $USER, then log in again" }
                        ?? "ask an administrator for access to \(path)",
                    exitCode: ExitStatus.noPermission
                )
            }
            let hint = path == WireProtocol.defaultSocketPath
                ? "is the daemon running? Start it with: sudo systemctl start miniupdated.socket"
                : "is miniupdated serving \(path)? (set by --socket or $\(WireProtocol.socketEnvironmentVariable))"
            return CommandFailure("cannot reach miniupdated at \(path): \(reason)", hint: hint, exitCode: ExitStatus.unavailable)
        case .rpc(let rpcError):
            if rpcError.reason == .notPermitted {
                // The daemon says who may: "… is not permitted for uid 1000 pid 7: it needs root, …".
                let who = rpcError.message.firstRange(of: ": it needs ").map { String(rpcError.message[$0.upperBound...]) }
                return CommandFailure(
                    "miniupdatectl \(command) is not permitted for you (uid \(getuid()))", code: .notPermitted,
                    hint: who.map { "it needs \($0)" }, exitCode: ExitStatus.noPermission
                )
            }
            if let reason = rpcError.reason {
                return CommandFailure(rpcError.message, code: reason)
            }
            return CommandFailure(rpcError.message, exitCode: rpcError.code == RPCErrorCode.invalidParams ? ExitStatus.usage : ExitStatus.failure)
        case .disconnected, .malformedResponse:
            return CommandFailure(error.description)
        }
    }

    /// The name of the group that owns `path`, if it can be read.
    static func groupOwning(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        guard getgrgid_r(info.st_gid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.gr_name else { return nil }
        return String(cString: name)
    }
}

/// An app id argument, checked before anything is sent.
struct AppArgument: ParsableArguments {
    @Argument(help: ArgumentHelp("The app id, such as com.example.weather.", valueName: "APP"),
              completion: .custom(InstalledApps.complete), transform: ArgumentValue.appID)
    var app: AppID
}

/// The apps the daemon knows, for shell completion; none when it cannot be reached.
enum InstalledApps {
    @Sendable static func complete(_ arguments: [String], _ index: Int, _ prefix: String) async -> [String] {
        var socket = DaemonClient.defaultSocketPath
        if let flag = arguments.firstIndex(of: "--socket"), flag + 1 < arguments.count { socket = arguments[flag + 1] }
        let apps = try? await DaemonClient.withConnection(socketPath: socket) { try await $0.call(Method.Status()).apps.map(\.app) }
        return (apps ?? []).filter { $0.hasPrefix(prefix) }
    }
}

/// Flushes stdout (fflush(NULL) flushes every stream; `stdout` is not concurrency-safe in Swift 6).
func flushStandardOutput() { fflush(nil) }
