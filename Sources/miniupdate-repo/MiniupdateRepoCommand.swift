import ArgumentParser
import FoundationEssentials
import MiniupdateCore
import MiniupdateRepository

#if canImport(Glibc)
import Glibc
#endif

@main
struct MiniupdateRepoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "miniupdate-repo",
        abstract: "Make and check signed miniupdate repositories.",
        discussion: """
            A repository is a directory of static files (index.signed and packages/) that any \
            web server, object store or CDN can serve. See docs/repository-format.md.
            """,
        subcommands: [Keygen.self, Publish.self, Resign.self, Remove.self, Verify.self, List.self]
    )
}

/// Runs a command body, printing an ``UpdateError`` as one line on stderr with exit code 1.
func runReportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as UpdateError {
        FileHandleStandardError.write("miniupdate-repo: error: \(error.message) [\(error.code)]\n")
        throw ExitCode(1)
    }
}

enum FileHandleStandardError {
    static func write(_ text: String) {
        // write(2) on fd 2: the C `stderr` global is not concurrency-safe in Swift 6.
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}

func now() -> Int64 { Int64(Date().timeIntervalSince1970) }

/// A duration such as `7d`, `12h`, `30m`, `90s` or `2w`.
struct ExpiryDuration: ExpressibleByArgument {
    let duration: Duration

    init?(argument: String) {
        guard let unit = argument.last, let amount = Int64(argument.dropLast()), amount > 0 else { return nil }
        let seconds: Int64
        switch unit {
        case "s": seconds = 1
        case "m": seconds = 60
        case "h": seconds = 3600
        case "d": seconds = 86_400
        case "w": seconds = 604_800
        default: return nil
        }
        let (total, overflow) = amount.multipliedReportingOverflow(by: seconds)
        guard !overflow, total <= 10 * 366 * 86_400 else { return nil }
        duration = .seconds(total)
    }

    static let sevenDays = ExpiryDuration(argument: "7d")!
}

struct SigningOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The private key that signs the index.", valueName: "KEY"))
    var key: String

    @Option(name: .long, help: ArgumentHelp("How long the new index is valid: 90s, 30m, 12h, 7d or 2w.", valueName: "DURATION"))
    var expiresIn: ExpiryDuration = .sevenDays

    func signingKey() throws -> RepositorySigningKey {
        try RepositorySigningKey(contentsOfFile: key)
    }
}
