#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MiniupdateCore
import MiniupdateRepository

/// A repository in a local directory (`file://`), with the same semantics as HTTP:
/// conditional fetches, resumes and limits. The validator stands in for an ETag and is
/// made of the file's inode, size and modification time.
public struct FileTransport: RepositoryTransport {
    /// The repository's directory, an absolute path without a trailing slash.
    public let root: String
    /// Only ``TransferLimits/transferTimeout`` and the low-speed rule apply: there is no
    /// connection to time.
    public let limits: TransferLimits

    /// A transport reading the repository at `root`; one trailing slash is dropped.
    public init(root: String, limits: TransferLimits = TransferLimits()) {
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
        self.limits = limits
    }

    /// `file://` followed by ``root``.
    public var location: String { "file://\(root)" }

    /// Reads `request.path` under ``root``.
    ///
    /// Throws `not-found` for a missing path or one that is not a regular
    /// file, `repository-unreachable` when it cannot be opened, and
    /// `timeout` or `transfer-too-slow` past the limits.
    public func fetch<Sink: FetchSink>(_ request: FetchRequest, into sink: inout Sink) async throws -> FetchOutcome {
        let path = root + "/" + request.path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT || errno == ENOTDIR {
                throw UpdateError(.notFound, "\(path) does not exist")
            }
            throw UpdateError(.repositoryUnreachable, "open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        try systemCall("stat", path) { fstat(fd, &info) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw UpdateError(.notFound, "\(path) is not a file") }
        let size = Int64(info.st_size)
        let validators = Validators(etag: "\"\(info.st_ino)-\(size)-\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)\"")
        if let conditions = request.ifNoneMatch, conditions.etag == validators.etag {
            return .notModified
        }
        var offset: Int64 = 0
        if request.resumeOffset > 0, request.ifRange?.etag == validators.etag, request.resumeOffset <= size {
            offset = request.resumeOffset
        }
        try sink.begin(offset: offset, contentLength: size - offset, validators: validators)
        var clock = TransferClock(limits: limits)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            try Task.checkCancellation()
            let count = try buffer.withUnsafeMutableBytes { (raw) in
                try systemCall("read", path) { pread(fd, raw.baseAddress, raw.count, off_t(offset)) }
            }
            if count == 0 { break }
            offset += Int64(count)
            try clock.received(count, path: path)
            try buffer.withUnsafeBytes { (raw) in
                try sink.append(UnsafeRawBufferPointer(rebasing: raw[..<count]))
            }
        }
        return .fetched(validators)
    }

    /// Does nothing: this transport holds no connection.
    public func shutdown() async {}
}
