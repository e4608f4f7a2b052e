import ArgumentParser
import FoundationEssentials
import MiniupdateCore
import MiniupdateRepository

#if canImport(Glibc)
import Glibc
#endif

struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create an Ed25519 signing key: KEY (mode 0600) and KEY.pub.")

    @Option(name: .long, help: ArgumentHelp("Where to write the private key; the public key goes to KEY.pub.", valueName: "KEY"))
    var output: String

    @Flag(name: .long, help: "Replace existing key files.")
    var force = false

    func run() throws {
        try runReportingErrors {
            let publicPath = output + ".pub"
            if !force, access(output, F_OK) == 0 || access(publicPath, F_OK) == 0 {
                throw UpdateError(.invalidArgument, "\(output) or \(publicPath) exists; pass --force to replace it")
            }
            let key = RepositorySigningKey()
            try writeFile(key.fileContents, to: output, mode: 0o600)
            try writeFile(key.publicKey.fileContents, to: publicPath, mode: 0o644)
            print("wrote \(output) and \(publicPath) (key id \(key.publicKey.keyID))")
        }
    }

    private func writeFile(_ text: String, to path: String, mode: mode_t) throws {
        unlink(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw UpdateError(.io, "create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count, fsync(fd) == 0 else {
            throw UpdateError(.io, "write \(path): \(String(cString: strerror(errno)))")
        }
    }
}

struct Publish: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Pack a directory as a new version of an app and sign a new index.")

    @Argument(help: ArgumentHelp("The repository directory; created if missing.", valueName: "REPO_DIR"))
    var repository: String

    @Option(name: .long, help: ArgumentHelp("The app id, such as com.example.weather.", valueName: "APP_ID"))
    var app: String

    @Option(name: .long, help: ArgumentHelp("The new semantic version; must be higher than the published one.", valueName: "VERSION"))
    var version: String

    @Option(name: .long, help: ArgumentHelp("The app's directory tree.", valueName: "SOURCE_DIR"))
    var from: String

    @Option(name: .long, help: ArgumentHelp("Release notes for people (at most 4096 bytes).", valueName: "TEXT"))
    var notes: String?

    @OptionGroup var signing: SigningOptions

    func run() throws {
        try runReportingErrors {
            let release = try RepositoryPublisher(directory: repository).publish(
                app: AppID(app), version: Version(version), from: from,
                key: signing.signingKey(), expiresIn: signing.expiresIn.duration, notes: notes, now: now()
            )
            print("published \(app) \(release.version): \(release.package), \(release.size) bytes, sha256 \(release.sha256)")
            // Published all the same: an administrator may have raised the clients' limits.
            do {
                try ExtractionLimits().admit(release, of: AppID(app))
            } catch let refusal as UpdateError {
                FileHandleStandardError.write("miniupdate-repo: warning: \(refusal.message); clients with the default max-unpacked-size and max-files will not download it [\(refusal.code)]\n")
            }
        }
    }
}

struct Resign: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Sign the index again with a higher serial and a new expiry.")

    @Argument(help: ArgumentHelp("The repository directory.", valueName: "REPO_DIR"))
    var repository: String

    @OptionGroup var signing: SigningOptions

    func run() throws {
        try runReportingErrors {
            let index = try RepositoryPublisher(directory: repository).resign(key: signing.signingKey(), expiresIn: signing.expiresIn.duration, now: now())
            print("signed serial \(index.serial), expires \(formatTime(index.expires))")
        }
    }
}

struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Withdraw an app from the index.")

    @Argument(help: ArgumentHelp("The repository directory.", valueName: "REPO_DIR"))
    var repository: String

    @Option(name: .long, help: ArgumentHelp("The app id to withdraw.", valueName: "APP_ID"))
    var app: String

    @Flag(name: .long, help: "Also delete the app's package files.")
    var deletePackages = false

    @OptionGroup var signing: SigningOptions

    func run() throws {
        try runReportingErrors {
            try RepositoryPublisher(directory: repository).remove(
                app: AppID(app), deletePackages: deletePackages, key: signing.signingKey(), expiresIn: signing.expiresIn.duration, now: now()
            )
            print("removed \(app)")
        }
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a repository exactly as a client would.",
        discussion: "Exits 0 when the index verifies with one of the keys, has not expired, and every package matches its size and SHA-256; otherwise prints the reason and exits 1."
    )

    @Argument(help: ArgumentHelp("The repository directory.", valueName: "REPO_DIR"))
    var repository: String

    @Option(name: .long, help: ArgumentHelp("A trusted public key; may be repeated.", valueName: "KEY.pub"))
    var publicKey: [String]

    func run() throws {
        try runReportingErrors {
            let keys = try publicKey.map { try RepositoryPublicKey(contentsOfFile: $0) }
            guard !keys.isEmpty else { throw UpdateError(.invalidArgument, "pass at least one --public-key") }
            let index = try RepositoryPublisher(directory: repository).verify(trustedKeys: keys, now: now())
            print("ok: serial \(index.serial), \(index.apps.count) apps, expires \(formatTime(index.expires))")
        }
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the apps a repository offers.")

    @Argument(help: ArgumentHelp("The repository directory.", valueName: "REPO_DIR"))
    var repository: String

    func run() throws {
        try runReportingErrors {
            guard let index = try RepositoryPublisher(directory: repository).currentIndex() else {
                throw UpdateError(.invalidArgument, "\(repository) is not a repository (no \(SignedIndex.fileName))")
            }
            print("serial \(index.serial), published \(formatTime(index.published)), expires \(formatTime(index.expires))")
            let rows = index.apps.sorted { $0.key < $1.key }.map { app, release in
                [app.rawValue, release.version.text, "\(release.size)", "\(release.files)", String(release.sha256.prefix(16))]
            }
            printTable(header: ["APP", "VERSION", "SIZE", "FILES", "SHA256"], rows: rows)
        }
    }
}

func printTable(header: [String], rows: [[String]]) {
    let all = [header] + rows
    let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
    for row in all {
        print(row.enumerated().map { column, cell in
            column == row.count - 1 ? cell : cell.padding(toLength: widths[column])
        }.joined(separator: "  "))
    }
}

extension String {
    func padding(toLength length: Int) -> String {
        count >= length ? self : self + String(repeating: " ", count: length - count)
    }
}

/// UTC, ISO 8601, to the second.
func formatTime(_ seconds: Int64) -> String {
    var time = time_t(seconds)
    var parts = tm()
    gmtime_r(&time, &parts)
    func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
    return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
}
