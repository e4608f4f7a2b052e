#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import FoundationEssentials
import MiniupdateCore

/// The publisher's side of a repository directory: adds packages and writes freshly signed
/// indexes. The directory can then be served as static files as it is.
///
/// ```
/// REPO_DIR/index.signed
/// REPO_DIR/packages/<app>/<app>-<version>.tar.zst
/// ```
///
/// Every change takes an exclusive `flock` on the repository directory itself, so two
/// publishers never interleave and nothing but the repository is served; it checks every
/// input before it touches the directory, and writes the index last, atomically: a client
/// never sees an index that names a package not yet in place, and a refused change leaves
/// nothing behind.
///
/// Only a key that signed the current index may sign the next one: an index signed by
/// another key would be refused by every client (`untrusted-key`). Moving to a new key is
/// explicit (`rotatingKey`), because every client's trusted key must change with it.
public struct RepositoryPublisher {
    /// The repository's root directory, without a trailing slash.
    public let directory: String

    /// A publisher of the repository at `directory`, which need not exist yet: the first
    /// publish creates it. Touches nothing until a method is called.
    public init(directory: String) {
        self.directory = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
    }

    /// The path of the repository's `index.signed`.
    public var indexPath: String { "\(directory)/\(SignedIndex.fileName)" }

    /// The repository's current index, read without trust decisions (it is the publisher's
    /// own), or nil for a repository that does not exist yet. Throws
    /// `index-malformed` for an index that does not parse.
    public func currentIndex() throws -> RepositoryIndex? {
        try current()?.index
    }

    /// The current index and the envelope that signs it.
    private func current() throws -> (envelope: SignedIndex, index: RepositoryIndex)? {
        guard FileSystem.exists(indexPath) else { return nil }
        let envelope = try SignedIndex(parsing: FileSystem.readFile(indexPath, limit: 256 << 20))
        return (envelope, try IndexVerifier.decode(envelope.body))
    }

    /// One app version to publish.
    public struct Item: Sendable {
        /// The app to publish a version of.
        public var app: AppID
        /// The version to publish; it must be higher than the app's latest in the index.
        public var version: Version
        /// The directory whose tree becomes the package (its contents, not the directory itself).
        public var sourceDirectory: String
        /// Release notes for people, at most ``Release/maximumNotesLength`` bytes; nil for none.
        public var notes: String?

        /// An item publishing `sourceDirectory` as `version` of `app`.
        public init(app: AppID, version: Version, sourceDirectory: String, notes: String? = nil) {
            self.app = app
            self.version = version
            self.sourceDirectory = sourceDirectory
            self.notes = notes
        }
    }

    /// Packs `sourceDirectory` as `version` of `app` and publishes it, as
    /// ``publish(_:key:rotatingKey:expiresIn:now:)`` does for one item, and returns its release.
    /// Refuses a version that is not higher than the app's latest.
    @discardableResult
    public func publish(app: AppID, version: Version, from sourceDirectory: String, key: RepositorySigningKey, rotatingKey: Bool = false,
                        expiresIn: Duration, notes: String? = nil, now: Int64) throws -> Release {
        try publish([Item(app: app, version: version, sourceDirectory: sourceDirectory, notes: notes)], key: key, rotatingKey: rotatingKey, expiresIn: expiresIn, now: now)[0]
    }

    /// Publishes several app versions under one new index (one serial). Nothing is written
    /// unless every item can be published: a missing source, a version not higher than the
    /// published one or a key that did not sign the current index leaves the directory as
    /// it was (a new repository is not even created).
    ///
    /// The new index is signed by `key` alone, published at `now` (seconds since the Unix
    /// epoch) and expires `expiresIn` later, counted in whole seconds. Returns the items'
    /// releases, in order.
    ///
    /// Throws `invalid-argument` for an `expiresIn` that is not positive,
    /// an app listed twice or a source that is not a directory;
    /// `key-mismatch` when `key` did not sign the current index and
    /// `rotatingKey` is false; `version-not-newer`;
    /// `index-malformed` when the current index does not parse; the errors
    /// of ``PackageBuilder/build(from:to:)``; and `no-space` or
    /// `io`.
    public func publish(_ items: [Item], key: RepositorySigningKey, rotatingKey: Bool = false, expiresIn: Duration, now: Int64) throws -> [Release] {
        try Self.checkExpiry(expiresIn)
        var apps: Set<AppID> = []
        for item in items {
            guard apps.insert(item.app).inserted else { throw UpdateError(.invalidArgument, "\(item.app) is listed twice") }
            guard FileSystem.kind(at: item.sourceDirectory) == .directory else {
                throw UpdateError(.invalidArgument, "\(item.sourceDirectory) is not a directory (the tree of \(item.app) \(item.version))")
            }
        }
        let created = FileSystem.kind(at: directory) == nil
        try FileSystem.createDirectory(directory)
        do {
            return try withLock {
                let current = try current()
                try Self.requireSigner(key, of: current?.envelope, rotating: rotatingKey)
                var index = current?.index ?? RepositoryIndex(serial: 0, published: now, expires: now)
                for item in items {
                    if let latest = index.apps[item.app]?.version, !(latest < item.version) {
                        throw UpdateError(.versionNotNewer, "\(item.app) \(item.version) is not higher than the published \(latest)")
                    }
                }
                var written = PackagesWritten(repository: directory)
                do {
                    var releases: [Release] = []
                    for item in items {
                        let release = try written.build(item)
                        index.apps[item.app] = release
                        releases.append(release)
                    }
                    try write(&index, key: key, expiresIn: expiresIn, now: now)
                    return releases
                } catch {
                    written.undo()
                    throw error
                }
            }
        } catch {
            if created { try? FileSystem.removeTree(directory) }
            throw error
        }
    }

    /// Signs the current index again with a higher serial and a new expiry, for example
    /// before it expires, or, `rotatingKey`, with a new key. Returns the index as written.
    ///
    /// Throws `invalid-argument` when the directory has no index or
    /// `expiresIn` is not positive, `key-mismatch`,
    /// `index-malformed`, `no-space` or `io`.
    public func resign(key: RepositorySigningKey, rotatingKey: Bool = false, expiresIn: Duration, now: Int64) throws -> RepositoryIndex {
        try Self.checkExpiry(expiresIn)
        guard FileSystem.exists(indexPath) else { throw notARepository() }
        return try withLock {
            guard let current = try current() else { throw notARepository() }
            try Self.requireSigner(key, of: current.envelope, rotating: rotatingKey)
            var index = current.index
            try write(&index, key: key, expiresIn: expiresIn, now: now)
            return index
        }
    }

    /// Withdraws `app` from the index, and deletes its packages when asked (after the new
    /// index is written, so no client is sent to a deleted package).
    ///
    /// Throws `unknown-app` when the index has no `app`, and otherwise as
    /// ``resign(key:rotatingKey:expiresIn:now:)`` does.
    public func remove(app: AppID, deletePackages: Bool, key: RepositorySigningKey, rotatingKey: Bool = false, expiresIn: Duration, now: Int64) throws {
        try Self.checkExpiry(expiresIn)
        guard FileSystem.exists(indexPath) else { throw notARepository() }
        try withLock {
            guard let current = try current() else { throw notARepository() }
            guard current.index.apps[app] != nil else { throw UpdateError(.unknownApp, "the repository has no app \(app)") }
            try Self.requireSigner(key, of: current.envelope, rotating: rotatingKey)
            var index = current.index
            index.apps[app] = nil
            try write(&index, key: key, expiresIn: expiresIn, now: now)
            if deletePackages { try FileSystem.removeTree("\(directory)/packages/\(app.rawValue)") }
        }
    }

    /// The key ids that sign the current index, or nil for a repository without one.
    public func currentSigners() throws -> [String]? {
        try current()?.envelope.signatures.map(\.keyID)
    }

    private func notARepository() -> UpdateError {
        UpdateError(.invalidArgument, "\(directory) is not a repository (no \(SignedIndex.fileName))")
    }

    private static func checkExpiry(_ expiresIn: Duration) throws {
        guard expiresIn >= .seconds(1) else { throw UpdateError(.invalidArgument, "the index must stay valid for at least a second (expiries count whole seconds)") }
    }

    /// Refuses `key` unless a valid signature of `envelope` is by it, or `rotating`.
    static func requireSigner(_ key: RepositorySigningKey, of envelope: SignedIndex?, rotating: Bool) throws {
        guard let envelope, !rotating else { return }
        let publicKey = key.publicKey
        let message = SignedIndex.signedMessage(envelope.body)
        if envelope.signatures.contains(where: { $0.keyID == publicKey.keyID && publicKey.isValidSignature($0.bytes, for: message) }) { return }
        let signers = envelope.signatures.map(\.keyID).joined(separator: ", ")
        throw UpdateError(.keyMismatch, """
            this key (key id \(publicKey.keyID)) did not sign the current index, which key id \(signers) signed: \
            clients that trust it would refuse the new index with untrusted-key. To move to this key, pass --rotate-key, \
            and make every client's trusted-key this key's public key (key id \(publicKey.keyID))
            """)
    }

    private func write(_ index: inout RepositoryIndex, key: RepositorySigningKey, expiresIn: Duration, now: Int64) throws {
        index.serial += 1
        index.published = now
        index.expires = now + expiresIn.components.seconds
        let signed = try SignedIndex(signing: index, with: [key])
        try FileSystem.writeAtomically(signed.fileContents, to: indexPath)
    }

    /// Runs `body` holding an exclusive `flock` of the repository directory (which exists).
    /// The lock is the directory's own descriptor, so no lock file sits among the files
    /// that are served.
    private func withLock<T>(_ body: () throws -> T) throws -> T {
        let path = directory
        let fd = try systemCall("open", path) { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { close(fd) }
        try systemCall("lock", path) { flock(fd, LOCK_EX) }
        return try body()
    }

    /// Checks the repository exactly as a client would: the index with `trustedKeys` at
    /// time `now` (seconds since the Unix epoch), then every package's size and SHA-256.
    /// Returns the verified index.
    ///
    /// Throws the errors of ``IndexVerifier/verify(_:now:lastAccepted:)`` (no rollback check:
    /// nothing was accepted before), `not-found` for a missing package,
    /// `package-too-large` or `package-truncated` for a
    /// package of the wrong size, `digest-mismatch`, and
    /// `io` when a file cannot be read, the index included.
    public func verify(trustedKeys: [RepositoryPublicKey], now: Int64) throws -> RepositoryIndex {
        let bytes = try FileSystem.readFile(indexPath, limit: 256 << 20)
        let verified = try IndexVerifier(trustedKeys: trustedKeys).verify(bytes, now: now, lastAccepted: nil)
        for (app, release) in verified.index.apps.sorted(by: { $0.key < $1.key }) {
            let path = "\(directory)/\(release.package)"
            guard FileSystem.kind(at: path) == .regular else {
                throw UpdateError(.notFound, "\(app) \(release.version): \(release.package) is missing")
            }
            let (sha256, size) = try PackageBuilder.sha256OfFile(at: path)
            guard size == release.size else {
                throw UpdateError(size > release.size ? .packageTooLarge : .packageTruncated, "\(app) \(release.version): \(release.package) is \(size) bytes, the index says \(release.size)")
            }
            guard sha256 == release.sha256 else {
                throw UpdateError(.digestMismatch, "\(app) \(release.version): \(release.package) has SHA-256 \(sha256), the index says \(release.sha256)")
            }
        }
        return verified.index
    }
}

/// The packages one publish has written, to take back when the publish fails.
private struct PackagesWritten {
    let repository: String
    private var files: [String] = []
    private var directories: [String] = []

    init(repository: String) { self.repository = repository }

    /// Packs `item` into its place under `packages/`, and returns its release.
    mutating func build(_ item: RepositoryPublisher.Item) throws -> Release {
        let packageDirectory = "packages/\(item.app.rawValue)"
        // '+' (build metadata) is fine in a path but some object stores read it as a space.
        let fileName = "\(item.app.rawValue)-\(item.version.text.replacing("+", with: "_")).\(PackageBuilder.fileExtension)"
        let relativePath = "\(packageDirectory)/\(fileName)"
        for directory in ["\(repository)/packages", "\(repository)/\(packageDirectory)"] where FileSystem.kind(at: directory) == nil {
            try FileSystem.createDirectory(directory)
            directories.append(directory)
        }
        let path = "\(repository)/\(relativePath)"
        let existed = FileSystem.exists(path)
        let digest = try PackageBuilder.build(from: item.sourceDirectory, to: path)
        if !existed { files.append(path) }
        return try Release(version: item.version, package: relativePath, sha256: digest.sha256, size: digest.size,
                           installedSize: digest.installedSize, files: digest.files, notes: item.notes)
    }

    /// Removes what ``build(_:)`` created, newest first.
    func undo() {
        for file in files.reversed() { unlink(file) }
        for directory in directories.reversed() { rmdir(directory) }
    }
}
