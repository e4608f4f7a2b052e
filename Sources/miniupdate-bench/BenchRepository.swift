import Foundation
import MiniupdateCore
import MiniupdateRepository

/// A signed repository under nginx's root, written directly (one package can serve many
/// apps), so that 10,000 apps take a second to publish.
final class BenchRepository: @unchecked Sendable {
    let root: String
    let url: String
    let key = RepositorySigningKey()
    let publicKeyPath: String
    private(set) var index = RepositoryIndex(serial: 0, published: 0, expires: 0)
    private var tiny: Release?

    init(bench: Workbench, name: String = "repo") throws {
        root = "\(bench.directory)/www/\(name)"
        url = "\(bench.nginx.baseURL)/\(name)"
        publicKeyPath = "\(bench.directory)/\(name).pub"
        try FileManager.default.createDirectory(atPath: "\(root)/packages", withIntermediateDirectories: true)
        try key.publicKey.fileContents.write(toFile: publicKeyPath, atomically: true, encoding: .utf8)
    }

    static func tinyAppIDs(_ count: Int) -> [String] { (0..<count).map { "com.example.app\($0)" } }

    /// Adds `count` apps at 1.0.0 that share one small package.
    func addTinyApps(_ count: Int) throws {
        let release = try tinyRelease()
        for id in Self.tinyAppIDs(count) { index.apps[try AppID(id)] = release }
    }

    private func tinyRelease() throws -> Release {
        if let tiny { return tiny }
        let source = "\(root)/../tiny-src"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        try "<!doctype html><title>app</title>\n".write(toFile: "\(source)/index.html", atomically: true, encoding: .utf8)
        let release = try build(source: source, name: "tiny-1.0.0", version: "1.0.0")
        tiny = release
        return release
    }

    /// Publishes `version` of `app` with one file of `bytes` random (incompressible) bytes.
    @discardableResult
    func addApp(_ app: String, version: String, payloadBytes: Int) throws -> Release {
        let source = "\(root)/../src-\(app)-\(version)"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: source) }
        try writeRandomFile("\(source)/payload.bin", bytes: payloadBytes)
        try "\(app) \(version)\n".write(toFile: "\(source)/index.html", atomically: true, encoding: .utf8)
        let release = try build(source: source, name: "\(app)-\(version)", version: version)
        index.apps[try AppID(app)] = release
        return release
    }

    private func build(source: String, name: String, version: String) throws -> Release {
        let relative = "packages/\(name).tar.zst"
        let digest = try PackageBuilder.build(from: source, to: "\(root)/\(relative)")
        return try Release(version: try Version(version), package: relative, sha256: digest.sha256, size: digest.size,
                       installedSize: digest.installedSize, files: digest.files)
    }

    /// Signs the index with the next serial and puts it in place.
    func sign() throws {
        let now = Int64(Date().timeIntervalSince1970)
        index.serial += 1
        index.published = now
        index.expires = now + 86_400
        let bytes = try SignedIndex(signing: index, with: [key]).fileContents
        let path = "\(root)/\(SignedIndex.fileName)"
        try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        // nginx's ETag is the modification time in seconds and the size: two signatures in
        // the same second would look unchanged. Give each serial a time of its own.
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: Double(now) + Double(index.serial))], ofItemAtPath: path)
    }

    private func writeRandomFile(_ path: String, bytes: Int) throws {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        var generator = SystemRandomNumberGenerator()
        var chunk = [UInt64](repeating: 0, count: 1 << 17)
        var written = 0
        while written < bytes {
            for index in chunk.indices { chunk[index] = generator.next() }
            let count = min(bytes - written, chunk.count * 8)
            try chunk.withUnsafeBytes { try handle.write(contentsOf: Data($0.prefix(count))) }
            written += count
        }
    }
}

/// Writes installed apps straight into a state directory, as if installed long ago.
func preinstall(_ apps: [String], version: String = "1.0.0", stateDirectory: String) throws {
    for app in apps {
        let directory = "\(stateDirectory)/apps/\(app)"
        if FileManager.default.fileExists(atPath: "\(directory)/current") { continue }
        try FileManager.default.createDirectory(atPath: "\(directory)/versions/\(version)", withIntermediateDirectories: true)
        try "\(app) \(version)\n".write(toFile: "\(directory)/versions/\(version)/index.html", atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: "\(directory)/current", withDestinationPath: "versions/\(version)")
    }
}
