#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CArchive
import Crypto
import MiniupdateCore

/// What a built package file is, as the index records it.
public struct PackageDigest: Sendable, Equatable {
    /// The SHA-256 of the package file, as 64 lower-case hex digits.
    public var sha256: String
    /// The package file's size in bytes.
    public var size: Int64
    /// The total size of its regular files once unpacked, in bytes.
    public var installedSize: Int64
    /// The number of entries (files, directories, symlinks), the root excluded.
    public var files: Int
}

/// Packs a mini app's directory tree into a package: a POSIX (pax) tar archive compressed
/// with zstd, written deterministically (sorted names, zero owners and times, modes
/// reduced to 0644/0755), so the same tree always gives the same bytes.
///
/// The tree is checked with the client's own rules first, so a publisher cannot ship what
/// every client would refuse: no devices, FIFOs or sockets, no symlinks leading outside.
public enum PackageBuilder {
    /// The extension of package file names: `<app>-<version>.tar.zst`.
    public static let fileExtension = "tar.zst"

    /// Packs the tree under `sourceDirectory` into `packagePath`, replacing any file there
    /// only once the package is complete, and returns what the index must record of it.
    ///
    /// Throws `invalid-argument` when `sourceDirectory` is not a directory,
    /// `archive-unsafe-path` for a name with a backslash or over 255 bytes,
    /// `archive-unsupported-entry` for a device, FIFO or socket,
    /// `archive-link-escape` for a symlink leading outside the tree, and
    /// `no-space` or `io` when reading or writing fails.
    @discardableResult
    public static func build(from sourceDirectory: String, to packagePath: String) throws -> PackageDigest {
        guard FileSystem.kind(at: sourceDirectory) == .directory else {
            throw UpdateError(.invalidArgument, "\(sourceDirectory) is not a directory")
        }
        var entries: [(components: [String], kind: ArchiveTree.Node)] = []
        var tree = ArchiveTree()
        try collect(sourceDirectory, [], into: &entries, tree: &tree)
        for case let (components, .symlink(target)) in entries where !tree.symlinkStaysInside(at: components, target: target) {
            throw UpdateError(.archiveLinkEscape, "symlink \(components.joined(separator: "/")) -> \(target) leads outside \(sourceDirectory)")
        }

        guard let writer = archive_write_new() else { throw UpdateError(.io, "libarchive: out of memory") }
        defer { archive_write_free(writer) }
        archive_write_set_format_pax_restricted(writer)
        archive_write_add_filter_zstd(writer)
        let temporary = "\(packagePath).tmp-\(FileSystem.temporarySuffix())"
        guard archive_write_open_filename(writer, temporary) == ARCHIVE_OK else {
            throw writeError(writer, "create \(temporary)")
        }
        var installedSize: Int64 = 0
        do throws {
            var buffer = [UInt8](repeating: 0, count: 256 * 1024)
            for (components, kind) in entries {
                let name = components.joined(separator: "/")
                let sourcePath = sourceDirectory + "/" + name
                guard let entry = archive_entry_new() else { throw UpdateError(.io, "libarchive: out of memory") }
                defer { archive_entry_free(entry) }
                archive_entry_set_pathname_utf8(entry, name)
                archive_entry_set_mtime(entry, 0, 0)
                var info = stat()
                try systemCall("stat", sourcePath) { lstat(sourcePath, &info) }
                switch kind {
                case .directory:
                    archive_entry_set_filetype(entry, UInt32(FileType.directory))
                    archive_entry_set_perm(entry, 0o755)
                case .symlink(let target):
                    archive_entry_set_filetype(entry, UInt32(FileType.symlink))
                    archive_entry_set_perm(entry, 0o777)
                    archive_entry_set_symlink_utf8(entry, target)
                case .file:
                    archive_entry_set_filetype(entry, UInt32(FileType.regular))
                    archive_entry_set_perm(entry, info.st_mode & 0o111 != 0 ? 0o755 : 0o644)
                    archive_entry_set_size(entry, Int64(info.st_size))
                    installedSize += Int64(info.st_size)
                }
                guard archive_write_header(writer, entry) == ARCHIVE_OK else { throw writeError(writer, "write \(name)") }
                guard kind == .file else { continue }
                let fd = try systemCall("open", sourcePath) { open(sourcePath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) }
                defer { close(fd) }
                var remaining = Int64(info.st_size)
                while remaining > 0 {
                    let count = try buffer.withUnsafeMutableBytes { (raw) in
                        try systemCall("read", sourcePath) { read(fd, raw.baseAddress, min(raw.count, Int(remaining))) }
                    }
                    guard count > 0 else { throw UpdateError(.io, "\(sourcePath) shrank while it was packed") }
                    let written = buffer.withUnsafeBytes { archive_write_data(writer, $0.baseAddress, count) }
                    guard written == count else { throw writeError(writer, "write \(name)") }
                    remaining -= Int64(count)
                }
            }
            guard archive_write_close(writer) == ARCHIVE_OK else { throw writeError(writer, "finish \(packagePath)") }
            let (sha256, size) = try sha256OfFile(at: temporary)
            try FileSystem.rename(temporary, to: packagePath)
            return PackageDigest(sha256: sha256, size: size, installedSize: installedSize, files: entries.count)
        } catch {
            unlink(temporary)
            throw error
        }
    }

    private static func collect(_ root: String, _ prefix: [String], into entries: inout [(components: [String], kind: ArchiveTree.Node)], tree: inout ArchiveTree) throws {
        let directory = prefix.isEmpty ? root : root + "/" + prefix.joined(separator: "/")
        for name in try FileSystem.contentsOfDirectory(directory) {
            let components = prefix + [name]
            let path = directory + "/" + name
            guard !name.contains("\\"), name.utf8.count <= 255 else {
                throw UpdateError(.archiveUnsafePath, "\(path): unsupported name")
            }
            switch FileSystem.kind(at: path) {
            case .directory?:
                entries.append((components, .directory))
                tree.add(components, .directory)
                try collect(root, components, into: &entries, tree: &tree)
            case .regular?:
                entries.append((components, .file))
                tree.add(components, .file)
            case .symlink?:
                let target = FileSystem.readLink(path) ?? ""
                entries.append((components, .symlink(target: target)))
                tree.add(components, .symlink(target: target))
            case .other?, nil:
                throw UpdateError(.archiveUnsupportedEntry, "\(path) is a device, FIFO or socket; a package holds only files, directories and symlinks")
            }
        }
    }

    private static func writeError(_ archive: OpaquePointer, _ operation: String) -> UpdateError {
        let message = archive_error_string(archive).map { String(cString: $0) } ?? "unknown error"
        let code = archive_errno(archive)
        return UpdateError(code == ENOSPC || code == EDQUOT ? .noSpace : .io, "\(operation): \(message)")
    }

    /// The SHA-256 (hex) and size of a file, read in one streaming pass.
    public static func sha256OfFile(at path: String) throws -> (String, Int64) {
        let fd = try systemCall("open", path) { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(fd) }
        var hasher = SHA256()
        var size: Int64 = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = try buffer.withUnsafeMutableBytes { (raw) in
                try systemCall("read", path) { read(fd, raw.baseAddress, raw.count) }
            }
            if count == 0 { break }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            size += Int64(count)
        }
        return (hasher.finalize().hexString, size)
    }
}
