#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CMiniupdateSystem
import FoundationEssentials
import MiniupdateCore

/// Small, explicit wrappers over the POSIX calls that make staging and state durable.
///
/// The engine depends on exact semantics (`O_EXCL`, `O_NOFOLLOW`, `rename(2)`, `fsync(2)`
/// on directories) that higher-level file APIs hide, so these stay thin and visible.
package enum FileSystem {
    package enum EntryKind: Equatable, Sendable {
        case regular, directory, symlink, other
    }

    /// The kind of the entry at `path`, without following a final symlink; `nil` if absent.
    package static func kind(at path: String) -> EntryKind? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .directory
        case S_IFLNK: return .symlink
        default: return .other
        }
    }

    package static func exists(_ path: String) -> Bool { kind(at: path) != nil }

    package static func size(of path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    /// Creates `path` and its missing parents with mode 0755.
    package static func createDirectory(_ path: String, mode: mode_t = 0o755) throws {
        if kind(at: path) == .directory { return }
        let parent = parentPath(path)
        if parent != path, !parent.isEmpty { try createDirectory(parent, mode: mode) }
        if mkdir(path, mode) != 0, errno != EEXIST {
            throw UpdateError(systemErrno: errno, operation: "create directory", path: path)
        }
    }

    package static func parentPath(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    package static func lastComponent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// The names in a directory, without `.` and `..`, sorted bytewise. An absent directory is empty.
    package static func contentsOfDirectory(_ path: String) throws -> [String] {
        guard let directory = opendir(path) else {
            if errno == ENOENT { return [] }
            throw UpdateError(systemErrno: errno, operation: "list", path: path)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != ".", name != ".." { names.append(name) }
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// Removes a file, a symlink or a whole tree. Never follows symlinks; an absent path is fine.
    package static func removeTree(_ path: String) throws {
        switch kind(at: path) {
        case nil: return
        case .directory:
            for name in try contentsOfDirectory(path) { try removeTree(path + "/" + name) }
            if rmdir(path) != 0, errno != ENOENT {
                throw UpdateError(systemErrno: errno, operation: "remove directory", path: path)
            }
        default:
            if unlink(path) != 0, errno != ENOENT {
                throw UpdateError(systemErrno: errno, operation: "remove", path: path)
            }
        }
    }

    package static func rename(_ source: String, to destination: String) throws {
        try systemCall("rename to \(destination)", source) { Glibc.rename(source, destination) }
    }

    /// fsync(2) of a directory, which makes renames and creations inside it durable.
    package static func syncDirectory(_ path: String) throws {
        let fd = try systemCall("open directory", path) { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { close(fd) }
        try systemCall("fsync", path) { fsync(fd) }
    }

    /// syncfs(2) of the filesystem that holds `path`.
    package static func syncFilesystem(containing path: String) throws {
        let fd = try systemCall("open", path) { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(fd) }
        try systemCall("syncfs", path) { miniupdate_syncfs(fd) }
    }

    package static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count >= 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    package static func readFile(_ path: String, limit: Int) throws -> [UInt8] {
        guard let bytes = try readFileIfPresent(path, limit: limit) else {
            throw UpdateError(systemErrno: ENOENT, operation: "open", path: path)
        }
        return bytes
    }

    /// The file's bytes, or nil if it does not exist (one `open`, no `stat` before it).
    package static func readFileIfPresent(_ path: String, limit: Int) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0, errno == ENOENT { return nil }
        guard fd >= 0 else { throw UpdateError(systemErrno: errno, operation: "open", path: path) }
        defer { close(fd) }
        // Sized to the file: most are state files of a few hundred bytes, read by the
        // thousand at start-up.
        var info = stat()
        let expected = fstat(fd, &info) == 0 ? Int(info.st_size) : 0
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: min(max(expected + 1, 256), 64 * 1024))
        while true {
            let count = try chunk.withUnsafeMutableBytes { (buffer) in
                try systemCall("read", path) { read(fd, buffer.baseAddress, buffer.count) }
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[..<count])
            if bytes.count > limit {
                throw UpdateError(.io, "\(path) is larger than \(limit) bytes")
            }
        }
    }

    /// A random suffix for temporary names, so concurrent or crashed writers never collide.
    package static func temporarySuffix() -> String {
        String(UInt64.random(in: .min ... .max), radix: 36)
    }

    /// Writes `bytes` to `path` so that a reader, or a crash, sees either the old file or
    /// the new one, never a mix: write a temporary file in the same directory, fsync it,
    /// rename it over `path`, then fsync the directory.
    package static func writeAtomically(_ bytes: some Collection<UInt8>, to path: String, mode: mode_t = 0o644) throws {
        let directory = parentPath(path)
        let temporary = "\(directory)/.\(lastComponent(path)).tmp-\(temporarySuffix())"
        let fd = try systemCall("create", temporary) { open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode) }
        // The descriptor is closed exactly once, on every path: a second close could close
        // a descriptor another thread has just been given the same number for.
        do throws {
            defer { close(fd) }
            try writeAll(fd, Array(bytes), path: temporary)
            CrashPoint.reach("file-written")
            try systemCall("fsync", temporary) { fsync(fd) }
        } catch {
            unlink(temporary)
            throw error
        }
        do {
            try rename(temporary, to: path)
        } catch {
            unlink(temporary)
            throw error
        }
        try syncDirectory(directory)
    }

    package static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        try bytes.withUnsafeBytes { (buffer) in
            try writeAll(fd, buffer, path: path)
        }
    }

    package static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < buffer.count {
            let written = try systemCall("write", path) {
                write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            }
            offset += written
        }
    }

    /// Whether a name is one of ours in-flight temporary names (see ``writeAtomically(_:to:mode:)``).
    package static func isTemporaryName(_ name: String) -> Bool {
        name.hasPrefix(".") && name.contains(".tmp-")
    }
}
