import ArgumentParser
import FoundationEssentials
import MiniupdateClient
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
            Exit status: 0 on success; 1 when the daemon refused or the operation failed (the \
            reason is printed on stderr); 64 for a usage error; 69 when the daemon cannot be reached.
            """,
        version: "0.1.0",
        subcommands: [Status.self, Check.self, Install.self, Apply.self, Rollback.self, Watch.self, Simulate.self]
    )
}

struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The daemon's socket (default $MINIUPDATE_SOCKET, else /run/miniupdate/miniupdate.sock).", valueName: "PATH"))
    var socket: String = DaemonClient.defaultSocketPath

    /// Connects, runs `body`, and turns failures into one line on stderr and an exit code.
    func run<T: Sendable>(_ body: @Sendable (DaemonClient) async throws -> T) async throws -> T {
        do {
            return try await DaemonClient.withConnection(socketPath: socket, body)
        } catch let error as DaemonClientError {
            printError(error.description)
            if case .unreachable = error { throw ExitCode(69) }
            throw ExitCode(1)
        }
    }
}

func printError(_ message: String) {
    let bytes = Array("miniupdatectl: \(message)\n".utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

func printJSON(_ value: some Encodable) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self))
}

var standardOutputIsTerminal: Bool { isatty(1) == 1 }

/// A local time such as `2026-11-29 12:00:05`.
func formatTime(_ seconds: Int64?) -> String {
    guard let seconds else { return "never" }
    var time = time_t(seconds)
    var parts = tm()
    localtime_r(&time, &parts)
    func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
    return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
}

func printTable(_ header: [String], _ rows: [[String]]) {
    let all = [header] + rows
    let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
    for row in all {
        let cells = row.enumerated().map { column, cell in
            column == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
        }
        print(cells.joined(separator: "  "))
    }
}

/// Flushes stdout (fflush(NULL) flushes every stream; `stdout` is not concurrency-safe in Swift 6).
func fflushStandardOutput() { fflush(nil) }
