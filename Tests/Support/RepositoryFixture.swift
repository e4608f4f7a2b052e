import Foundation
import MiniupdateCore
import MiniupdateRepository

/// A signed repository in a temporary directory, with helpers to publish app versions.
public struct RepositoryFixture: Sendable {
    public let directory: TemporaryDirectory
    public let key: RepositorySigningKey
    public var publisher: RepositoryPublisher { RepositoryPublisher(directory: repositoryPath) }
    public var repositoryPath: String { directory.sub("repo") }
    public var publicKey: RepositoryPublicKey { key.publicKey }
    public var fileURL: String { "file://\(repositoryPath)" }

    public init(key: RepositorySigningKey = RepositorySigningKey()) throws {
        directory = try TemporaryDirectory("miniupdate-repo")
        self.key = key
    }

    public static var now: Int64 { Int64(Date().timeIntervalSince1970) }

    /// Publishes `version` of `app` with the given files (default: an index.html naming the version).
    @discardableResult
    public func publish(_ app: String, _ version: String, files: [String: String]? = nil, expiresIn: Duration = .seconds(86_400)) throws -> Release {
        let source = directory.sub("src-\(app)-\(version)-\(UUID().uuidString)")
        try writeTree(files ?? ["index.html": "\(app) \(version)\n", "js/app.js": "console.log('\(version)')\n"], at: source)
        return try publisher.publish(app: AppID(app), version: Version(version), from: source, key: key, expiresIn: expiresIn, now: Self.now)
    }

    /// Publishes `count` apps named `com.example.appN` at version 1.0.0 in one index.
    public func publishMany(_ count: Int, version: String = "1.0.0") throws {
        let source = directory.sub("src-many-\(version)")
        try writeTree(["index.html": "app \(version)\n"], at: source)
        let items = try (0..<count).map { index in
            RepositoryPublisher.Item(app: try AppID("com.example.app\(index)"), version: try Version(version), sourceDirectory: source)
        }
        _ = try publisher.publish(items, key: key, expiresIn: .seconds(86_400), now: Self.now)
    }

    /// Puts `archivePath` in the repository as `version` of `app`, whatever it contains,
    /// declaring the given unpacked size and entry count, and signs a new index. The
    /// defaults declare as much as a client's default limits accept, so that what is
    /// refused is the archive's content, not its declaration.
    @discardableResult
    public func publishRaw(_ app: String, _ version: String, archive archivePath: String, installedSize: Int64 = 1 << 30, files: Int = ExtractionLimits().maximumEntries, expiresIn: Duration = .seconds(86_400)) throws -> Release {
        let relative = "packages/\(app)/\(app)-\(version)-raw.tar.zst"
        try FileManager.default.createDirectory(atPath: "\(repositoryPath)/packages/\(app)", withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: "\(repositoryPath)/\(relative)")
        try FileManager.default.copyItem(atPath: archivePath, toPath: "\(repositoryPath)/\(relative)")
        let (sha256, size) = try PackageBuilder.sha256OfFile(at: "\(repositoryPath)/\(relative)")
        let release = try Release(version: try Version(version), package: relative, sha256: sha256, size: size, installedSize: installedSize, files: files)
        var index = try publisher.currentIndex() ?? RepositoryIndex(serial: 0, published: Self.now, expires: Self.now)
        index.apps[try AppID(app)] = release
        try signAndWrite(index, expiresIn: expiresIn)
        return release
    }

    /// Writes `index` with the next serial, signed by this fixture's key.
    public func signAndWrite(_ index: RepositoryIndex, expiresIn: Duration = .seconds(86_400), now: Int64 = RepositoryFixture.now) throws {
        var index = index
        index.serial += 1
        index.published = now
        index.expires = now + expiresIn.components.seconds
        let bytes = try SignedIndex(signing: index, with: [key]).fileContents
        try Data(bytes).write(to: URL(fileURLWithPath: "\(repositoryPath)/\(SignedIndex.fileName)"))
    }

    public var indexBytes: Data { FileManager.default.contents(atPath: "\(repositoryPath)/\(SignedIndex.fileName)") ?? Data() }

    public func remove() { directory.remove() }
}
