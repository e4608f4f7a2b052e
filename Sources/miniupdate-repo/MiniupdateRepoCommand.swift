import ArgumentParser
import MiniupdateCommandLine
import MiniupdateCore
import MiniupdateRepository

@main
struct MiniupdateRepoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "miniupdate-repo",
        abstract: "Make and check signed miniupdate repositories.",
        discussion: """
            A repository is a directory of static files (index.signed and packages/) that any \
            web server, object store or CDN can serve. See docs/repository-format.md.

            Exit status: 0 on success; 1 when the operation was refused or failed; 64 for a \
            usage error (an unknown command or flag, a bad app id, version or duration).
            """,
        version: MiniupdateRelease.version,
        subcommands: [Keygen.self, Publish.self, Resign.self, Remove.self, Verify.self, List.self]
    )

    static func main() async {
        await CommandLineTool.main(Self.self)
    }
}

/// The private key that signs, how long the new index is valid, and whether to rotate.
struct SigningOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The private key that signs the index.", valueName: "KEY"))
    var key: String

    @Option(name: .long, help: ArgumentHelp("How long the new index is valid: 90s, 30m, 12h, 7d, 2w, or seconds.", valueName: "DURATION"))
    var expiresIn = DurationArgument(.seconds(7 * 86_400))

    @Flag(name: .long, help: "Sign with KEY although it did not sign the current index. Every client's trusted-key must then become KEY's public key.")
    var rotateKey = false

    func signingKey() throws -> RepositorySigningKey {
        try RepositorySigningKey(contentsOfFile: key)
    }

    /// What a rotation asks of the clients, for people.
    func rotationNotice(_ signingKey: RepositorySigningKey, previous: [String]?) -> String? {
        guard rotateKey, let previous, !previous.contains(signingKey.publicKey.keyID) else { return nil }
        return """
            signing key rotated from key id \(previous.joined(separator: ", ")) to \(signingKey.publicKey.keyID): \
            every client's trusted-key must now be the public key of \(key) \
            (\(RepositorySigningKey.publicKeyPath(for: key)), key id \(signingKey.publicKey.keyID)); \
            clients that still trust the old key refuse this repository with untrusted-key
            """
    }
}

func now() -> Int64 { HumanText.currentTime() }

/// When an index expires, for people: `2026-12-15T12:00:00Z (in 7 days)`, or
/// `expired 3 minutes ago; run miniupdate-repo resign`.
func describeExpiry(_ expires: Int64, repository: String) -> String {
    let current = now()
    if expires <= current {
        return "expired \(HumanText.relative(expires, now: current)); run miniupdate-repo resign \(repository) --key KEY"
    }
    return "expires \(HumanText.utcTime(expires)) (\(HumanText.relative(expires, now: current)))"
}
