#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Crypto
import FoundationEssentials
import MiniupdateCore
import MiniupdateRepository

/// Downloads a package into the cache, hashing in the same pass, and resumes an
/// interrupted download from its partial file.
///
/// Cache layout, per app: `downloads/<app>/<version>.partial` holds the bytes received so
/// far and `<version>.partial.json` what is needed to resume them safely (the expected
/// digest and size, and the server's validators for `If-Range`). A partial of another
/// version of the same app is abandoned and deleted; a completed download is returned to
/// the caller, which deletes it once the package is staged.
struct PackageDownloader: Sendable {
    let transport: any RepositoryTransport
    let cacheDirectory: String

    struct PartialRecord: Codable, Equatable {
        var sha256: String
        var size: Int64
        var validators: Validators
    }

    func directory(for app: AppID) -> String { "\(cacheDirectory)/downloads/\(app.rawValue)" }

    func partialPath(for app: AppID, version: Version) -> String { "\(directory(for: app))/\(version.text).partial" }

    /// Downloads `release` and returns the path of the complete, verified file.
    /// `progress` is called with (bytes so far, total) after each chunk.
    func download(app: AppID, release: Release, progress: @escaping @Sendable (Int64, Int64) -> Void) async throws -> String {
        let directory = directory(for: app)
        try FileSystem.createDirectory(directory)
        let partial = partialPath(for: app, version: release.version)
        let recordPath = partial + ".json"
        try abandonOthers(in: directory, keeping: FileSystem.lastComponent(partial))

        var record = (try? JSONDecoder().decode(PartialRecord.self, from: Data(FileSystem.readFile(recordPath, limit: 64 * 1024))))
        if record?.sha256 != release.sha256 || record?.size != release.size {
            record = nil
            try FileSystem.removeTree(partial)
            try FileSystem.removeTree(recordPath)
        }
        let fd = try systemCall("open", partial) { open(partial, O_RDWR | O_CREAT | O_CLOEXEC, 0o644) }
        defer { close(fd) }
        var sink = try HashingFileSink(fd: fd, path: partial, recordPath: recordPath, release: release, progress: progress)
        if sink.written > 0, record == nil {
            try sink.restart()
        }
        let complete = sink.written == release.size
        if !complete {
            let request = FetchRequest(path: release.package, resumeOffset: sink.written, ifRange: record?.validators)
            do {
                _ = try await transport.fetch(request, into: &sink)
            } catch let error as UpdateError where error.code == .noSpace || error.code == .packageTooLarge {
                // Give the space back at once: a full disk must not stay full because of us,
                // and bytes past the declared size prove the partial is not that package.
                try? FileSystem.removeTree(partial)
                try? FileSystem.removeTree(recordPath)
                throw error
            } catch {
                // Park: keep what arrived, durable, for the next attempt.
                fsync(fd)
                throw error
            }
        }
        guard sink.written == release.size else {
            fsync(fd)
            throw UpdateError(.packageTruncated, "\(release.package): the server sent \(sink.written) of \(release.size) bytes")
        }
        let digest = sink.finalize()
        guard digest == release.sha256 else {
            try? FileSystem.removeTree(partial)
            try? FileSystem.removeTree(recordPath)
            throw UpdateError(.digestMismatch, "\(release.package): SHA-256 is \(digest), the index says \(release.sha256)")
        }
        return partial
    }

    /// Deletes the partial and its record once the package is staged or given up.
    func discard(app: AppID, version: Version) {
        let partial = partialPath(for: app, version: version)
        try? FileSystem.removeTree(partial)
        try? FileSystem.removeTree(partial + ".json")
    }

    /// Deletes every download of `app` but `keeping`.
    func abandonOthers(in directory: String, keeping name: String) throws {
        for entry in try FileSystem.contentsOfDirectory(directory) where entry != name && entry != name + ".json" {
            try FileSystem.removeTree(directory + "/" + entry)
        }
    }

    /// Start-up repair of one app's downloads: removes temporary files, and the partials of
    /// versions that are already unpacked (a crash can come between staging a version and
    /// deleting its download). Other partials stay, to be resumed.
    static func tidy(cacheDirectory: String, app: AppID, unpacked: Set<String>) throws {
        let directory = "\(cacheDirectory)/downloads/\(app.rawValue)"
        for entry in try FileSystem.contentsOfDirectory(directory) {
            let version = entry.hasSuffix(".partial") ? String(entry.dropLast(".partial".count))
                : entry.hasSuffix(".partial.json") ? String(entry.dropLast(".partial.json".count)) : nil
            if FileSystem.isTemporaryName(entry) || version.map(unpacked.contains) == true {
                try FileSystem.removeTree(directory + "/" + entry)
            }
        }
    }

    /// Deletes every download of `app`.
    func abandonAll(app: AppID) {
        try? FileSystem.removeTree(directory(for: app))
    }
}

/// Writes a body to the partial file while hashing it, never accepting more than the
/// declared size.
struct HashingFileSink: FetchSink {
    static var deliversOnBlockingPool: Bool { true }

    let fd: Int32
    let path: String
    let recordPath: String
    let release: Release
    /// Called from whichever thread delivers the body.
    let progress: @Sendable (Int64, Int64) -> Void
    private(set) var written: Int64 = 0
    private var hasher = SHA256()

    init(fd: Int32, path: String, recordPath: String, release: Release, progress: @escaping @Sendable (Int64, Int64) -> Void) throws {
        self.fd = fd
        self.path = path
        self.recordPath = recordPath
        self.release = release
        self.progress = progress
        // Re-hash what an earlier attempt left: hashing runs at ~2 GB/s, far cheaper than
        // fetching those bytes again.
        var info = stat()
        try systemCall("stat", path) { fstat(fd, &info) }
        guard Int64(info.st_size) <= release.size else {
            try restart()
            return
        }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while written < Int64(info.st_size) {
            let count = try buffer.withUnsafeMutableBytes { (raw) in
                try systemCall("read", path) { pread(fd, raw.baseAddress, raw.count, off_t(written)) }
            }
            if count == 0 { break }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            written += Int64(count)
        }
    }

    mutating func restart() throws {
        try systemCall("truncate", path) { ftruncate(fd, 0) }
        written = 0
        hasher = SHA256()
    }

    mutating func begin(offset: Int64, contentLength: Int64?, validators: Validators) throws {
        if offset != written { try restart() }
        if let contentLength, written + contentLength > release.size {
            throw UpdateError(.packageTooLarge, "\(release.package): the server announces \(written + contentLength) bytes, the index says \(release.size)")
        }
        let record = PackageDownloader.PartialRecord(sha256: release.sha256, size: release.size, validators: validators)
        do {
            try FileSystem.writeAtomically(Array(try JSONEncoder().encode(record)), to: recordPath)
        } catch let error as UpdateError {
            throw error
        } catch {
            throw UpdateError(.io, "encode \(recordPath): \(error)")
        }
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard written + Int64(bytes.count) <= release.size else {
            throw UpdateError(.packageTooLarge, "\(release.package) is longer than the \(release.size) bytes the index declares")
        }
        var offset = 0
        while offset < bytes.count {
            let count = try systemCall("write", path) {
                pwrite(fd, bytes.baseAddress! + offset, bytes.count - offset, off_t(written + Int64(offset)))
            }
            offset += count
        }
        hasher.update(bufferPointer: bytes)
        let before = written
        written += Int64(bytes.count)
        if before < release.size / 2, written >= release.size / 2 { CrashPoint.reach("download-halfway") }
        progress(written, release.size)
    }

    func finalize() -> String { hasher.finalize().hexString }
}
