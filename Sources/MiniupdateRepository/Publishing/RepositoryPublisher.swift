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
/// Every change takes an exclusive `flock` on `REPO_DIR/.lock`, so two publishers never
/// interleave, and writes the index last, atomically: a client never sees an index that
/// names a package not yet in place.
public struct RepositoryPublisher {
    public let directory: String

    public init(directory: String) {
        self.directory = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
    }

    public var indexPath: String { "\(directory)/\(SignedIndex.fileName)" }

    /// The repository's current index, read without trust decisions (it is the publisher's
    /// own), or nil for a repository that does not exist yet.
    public func currentIndex() throws -> RepositoryIndex? {
        guard FileSystem.exists(indexPath) else { return nil }
        let envelope = try SignedIndex(parsing: FileSystem.readFile(indexPath, limit: 256 << 20))
        return try IndexVerifier.decode(envelope.body)
    }

    /// One app version to publish.
    public struct Item: Sendable {
        public var app: AppID
        public var version: Version
        public var sourceDirectory: String
        public var notes: String?

        public init(app: AppID, version: Version, sourceDirectory: String, notes: String? = nil) {
            self.app = app
            self.version = version
            self.sourceDirectory = sourceDirectory
            self.notes = notes
        }
    }

    /// Packs `sourceDirectory` as `version` of `app` and publishes it.
    /// Refuses a version that is not higher than the app's latest.
    @discardableResult
    public func publish(app: AppID, version: Version, from sourceDirectory: String, key: RepositorySigningKey, expiresIn: Duration, notes: String? = nil, now: Int64) throws -> Release {
        try publish([Item(app: app, version: version, sourceDirectory: sourceDirectory, notes: notes)], key: key, expiresIn: expiresIn, now: now)[0]
    }

    /// Publishes several app versions under one new index (one serial).
    public func publish(_ items: [Item], key: RepositorySigningKey, expiresIn: Duration, now: Int64) throws -> [Release] {
        try withLock {
            try FileSystem.createDirectory(directory)
            var index = try currentIndex() ?? RepositoryIndex(serial: 0, published: now, expires: now)
            var releases: [Release] = []
            for item in items {
                if let latest = index.apps[item.app]?.version, !(latest < item.version) {
                    throw UpdateError(.versionNotNewer, "\(item.app) \(item.version) is not higher than the published \(latest)")
                }
                let packageDirectory = "packages/\(item.app.rawValue)"
                // '+' (build metadata) is fine in a path but some object stores read it as a space.
                let fileName = "\(item.app.rawValue)-\(item.version.text.replacing("+", with: "_")).\(PackageBuilder.fileExtension)"
                let relativePath = "\(packageDirectory)/\(fileName)"
                try FileSystem.createDirectory("\(directory)/\(packageDirectory)")
                let digest = try PackageBuilder.build(from: item.sourceDirectory, to: "\(directory)/\(relativePath)")
                let release = try Release(version: item.version, package: relativePath, sha256: digest.sha256, size: digest.size, installedSize: digest.installedSize, files: digest.files, notes: item.notes)
                index.apps[item.app] = release
                releases.append(release)
            }
            try write(&index, key: key, expiresIn: expiresIn, now: now)
            return releases
        }
    }

    /// Signs the current index again with a higher serial and a new expiry, for example
    /// before it expires, or with a new key.
    public func resign(key: RepositorySigningKey, expiresIn: Duration, now: Int64) throws -> RepositoryIndex {
        try withLock {
            guard var index = try currentIndex() else {
                throw UpdateError(.invalidArgument, "\(directory) is not a repository (no \(SignedIndex.fileName))")
            }
            try write(&index, key: key, expiresIn: expiresIn, now: now)
            return index
        }
    }

    /// Withdraws `app` from the index, and deletes its packages when asked.
    public func remove(app: AppID, deletePackages: Bool, key: RepositorySigningKey, expiresIn: Duration, now: Int64) throws {
        try withLock {
            guard var index = try currentIndex(), index.apps[app] != nil else {
                throw UpdateError(.unknownApp, "the repository has no app \(app)")
            }
            index.apps[app] = nil
            try write(&index, key: key, expiresIn: expiresIn, now: now)
            if deletePackages { try FileSystem.removeTree("\(directory)/packages/\(app.rawValue)") }
        }
    }

    private func write(_ index: inout RepositoryIndex, key: RepositorySigningKey, expiresIn: Duration, now: Int64) throws {
        guard expiresIn > .zero else { throw UpdateError(.invalidArgument, "the expiry must be in the future") }
        index.serial += 1
        index.published = now
        index.expires = now + expiresIn.components.seconds
        let signed = try SignedIndex(signing: index, with: [key])
        try FileSystem.writeAtomically(signed.fileContents, to: indexPath)
    }

    private func withLock<T>(_ body: () throws -> T) throws -> T {
        try FileSystem.createDirectory(directory)
        let lockPath = "\(directory)/.lock"
        let fd = try systemCall("open", lockPath) { open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644) }
        defer { close(fd) }
        try systemCall("lock", lockPath) { flock(fd, LOCK_EX) }
        return try body()
    }

    /// Checks the repository exactly as a client would: the index with `trustedKeys` at
    /// time `now`, then every package's size and SHA-256. Returns the verified index.
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
