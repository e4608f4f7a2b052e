import ArgumentParser
import MiniupdateCommandLine
import MiniupdateCore
import MiniupdateRepository

struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create an Ed25519 signing key: KEY (mode 0600) and KEY.pub.")

    @Option(name: .long, help: ArgumentHelp("Where to write the private key; the public key goes to KEY.pub.", valueName: "KEY"))
    var output: String

    @Flag(name: .long, help: "Replace existing key files.")
    var force = false

    @OptionGroup var display: OutputOptions

    struct Result: Encodable {
        var privateKey: String
        var publicKey: String
        var keyID: String
    }

    func run() throws {
        let key = RepositorySigningKey()
        try key.write(toFile: output, replacing: force)
        let result = Result(privateKey: output, publicKey: RepositorySigningKey.publicKeyPath(for: output), keyID: key.publicKey.keyID)
        if display.printJSONIfAsked(result) { return }
        display.say("wrote \(result.privateKey) and \(result.publicKey) (key id \(result.keyID))")
    }
}

struct Publish: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Pack a directory as a new version of an app and sign a new index.")

    @Argument(help: ArgumentHelp("The repository directory; created if missing.", valueName: "REPO_DIR"))
    var repository: String

    @Option(name: .long, help: ArgumentHelp("The app id, such as com.example.weather.", valueName: "APP_ID"), transform: ArgumentValue.appID)
    var app: AppID

    @Option(name: .long, help: ArgumentHelp("The new semantic version; must be higher than the published one.", valueName: "VERSION"), transform: ArgumentValue.version)
    var version: Version

    @Option(name: .long, help: ArgumentHelp("The app's directory tree.", valueName: "SOURCE_DIR"))
    var from: String

    @Option(name: .long, help: ArgumentHelp("Release notes for people (at most 4096 bytes).", valueName: "TEXT"))
    var notes: String?

    @OptionGroup var signing: SigningOptions
    @OptionGroup var display: OutputOptions

    struct Result: Encodable {
        var app: String
        var release: Release
        /// What default clients would refuse the release for, if anything.
        var warning: String?
    }

    func run() throws {
        let publisher = RepositoryPublisher(directory: repository)
        let key = try signing.signingKey()
        let previous = try publisher.currentSigners()
        let release = try publisher.publish(app: app, version: version, from: from, key: key, rotatingKey: signing.rotateKey,
                                            expiresIn: signing.expiresIn.duration, notes: notes, now: now())
        // Published all the same: an administrator may have raised the clients' limits.
        var warning: String?
        do {
            try ExtractionLimits().admit(release, of: app)
        } catch let refusal as UpdateError {
            warning = "\(refusal.message); clients with the default max-unpacked-size and max-files will not download it [\(refusal.code)]"
        }
        let rotation = signing.rotationNotice(key, previous: previous)
        if display.printJSONIfAsked(Result(app: app.rawValue, release: release, warning: warning)) { return }
        display.say("published \(app) \(release.version): \(release.package), \(HumanText.bytes(release.size)), sha256 \(release.sha256)")
        if let warning { Terminal.writeError("miniupdate-repo: warning: \(warning)\n") }
        if let rotation { Terminal.writeError("miniupdate-repo: \(rotation)\n") }
    }
}

struct Resign: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Sign the index again with a higher serial and a new expiry.")

    @Argument(help: ArgumentHelp("The repository directory.", valueName: "REPO_DIR"))
    var repository: String

    @OptionGroup var signing: SigningOptions
    @OptionGroup var display: OutputOptions

    struct Result: Encodable {
        var serial: UInt64
        var expires: Int64
        var keyID: String
    }

    func run() throws {
        let publisher = RepositoryPublisher(directory: repository)
        let key = try signing.signingKey()
        let previous = try publisher.currentSigners()
        let index = try publisher.resign(key: key, rotatingKey: signing.rotateKey, expiresIn: signing.expiresIn.duration, now: now())
        if display.printJSONIfAsked(Result(serial: index.serial, expires: index.expires, keyID: key.publicKey.keyID)) { return }
        display.say("signed serial \(index.serial), \(describeExpiry(index.expires, repository: repository))")
        if let rotation = signing.rotationNotice(key, previous: previous) { Terminal.writeError("miniupdate-repo: \(rotation)\n") }
    }
}

struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Withdraw an app from the index.")

    @Argument(help: ArgumentHelp("The repository directory.", valueName: "REPO_DIR"))
    var repository: String

    @Option(name: .long, help: ArgumentHelp("The app id to withdraw.", valueName: "APP_ID"), transform: ArgumentValue.appID)
    var app: AppID

    @Flag(name: .long, help: "Also delete the app's package files.")
    var deletePackages = false

    @OptionGroup var signing: SigningOptions
    @OptionGroup var display: OutputOptions

    func run() throws {
        try RepositoryPublisher(directory: repository).remove(
            app: app, deletePackages: deletePackages, key: signing.signingKey(), rotatingKey: signing.rotateKey,
            expiresIn: signing.expiresIn.duration, now: now()
        )
        if display.printJSONIfAsked(["removed": app.rawValue]) { return }
        display.say("removed \(app)")
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
    var publicKey: [String] = []

    @OptionGroup var display: OutputOptions

    struct Result: Encodable {
        var serial: UInt64
        var apps: Int
        var expires: Int64
    }

    func validate() throws {
        guard !publicKey.isEmpty else { throw ValidationError("pass at least one --public-key") }
    }

    func run() throws {
        let keys = try publicKey.map { try RepositoryPublicKey(contentsOfFile: $0) }
        let index: RepositoryIndex
        do {
            index = try RepositoryPublisher(directory: repository).verify(trustedKeys: keys, now: now())
        } catch let error as UpdateError where error.code == .indexExpired {
            throw CommandFailure(error, hint: "run miniupdate-repo resign \(repository) --key KEY")
        }
        if display.printJSONIfAsked(Result(serial: index.serial, apps: index.apps.count, expires: index.expires)) { return }
        display.say("ok: serial \(index.serial), \(HumanText.count(index.apps.count, "app")), \(describeExpiry(index.expires, repository: repository))")
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the apps a repository offers.")

    @Argument(help: ArgumentHelp("The repository directory.", valueName: "REPO_DIR"))
    var repository: String

    @OptionGroup var display: OutputOptions

    struct Result: Encodable {
        var serial: UInt64
        var published: Int64
        var expires: Int64
        var apps: [App]

        struct App: Encodable {
            var app: String
            var release: Release
        }
    }

    func run() throws {
        guard let index = try RepositoryPublisher(directory: repository).currentIndex() else {
            throw UpdateError(.invalidArgument, "\(repository) is not a repository (no \(SignedIndex.fileName))")
        }
        let apps = index.apps.sorted { $0.key < $1.key }
        if display.printJSONIfAsked(Result(serial: index.serial, published: index.published, expires: index.expires,
                                           apps: apps.map { .init(app: $0.key.rawValue, release: $0.value) })) { return }
        display.say("serial \(index.serial), published \(HumanText.utcTime(index.published)), \(describeExpiry(index.expires, repository: repository))")
        guard !display.quiet else { return }
        TextTable.print(["APP", "VERSION", "SIZE", "FILES", "SHA256"], apps.map { app, release in
            [app.rawValue, release.version.text, HumanText.bytes(release.size), "\(release.files)", String(release.sha256.prefix(16))]
        })
    }
}
