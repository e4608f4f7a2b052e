#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CArchive
import MiniupdateCore

/// What an unpacked package contained.
public struct ExtractionSummary: Sendable, Equatable {
    /// The bytes of regular-file data written (hard links not counted again).
    public var bytes: Int64
    /// The number of archive entries read, including a `./` entry for the root if the
    /// archive has one.
    public var entries: Int
}

/// Unpacks a package (a tar archive, uncompressed or compressed with zstd or gzip) into a
/// new directory, refusing anything that could reach outside it or exhaust the disk.
///
/// Refused, each with its own code: absolute paths and `..` (`archive-unsafe-path`);
/// devices, FIFOs and sockets (`archive-unsupported-entry`); symlinks and
/// hard links that lead outside the tree, and entries written through a symlink
/// (`archive-link-escape`); more data or entries than the limits
/// (`archive-too-large`, `archive-too-many-files`).
///
/// Files are created with `O_EXCL | O_NOFOLLOW` relative to the new directory, modes are
/// reduced to 0644/0755, and owners are never applied. The caller owns durability (one
/// `syncfs` for the whole tree) and removes the directory on failure.
public enum PackageExtractor {
    /// Unpacks the package at `archivePath` into `destination`, which must not exist yet and
    /// is created with mode 0755, within `limits`.
    ///
    /// Besides the refusals listed for ``PackageExtractor``, throws
    /// `archive-malformed` for an archive that cannot be read (including one
    /// that cannot be opened), an entry that appears twice or lies below a file, and
    /// `no-space` or `io` for local failures, such as a
    /// `destination` that exists. On any error, part of the tree may have been written.
    public static func extract(archiveAt archivePath: String, into destination: String, limits: ExtractionLimits) throws -> ExtractionSummary {
        guard let reader = archive_read_new() else { throw UpdateError(.io, "libarchive: out of memory") }
        defer { archive_read_free(reader) }
        archive_read_support_format_tar(reader)
        archive_read_support_filter_none(reader)
        archive_read_support_filter_zstd(reader)
        archive_read_support_filter_gzip(reader)
        guard archive_read_open_filename(reader, archivePath, 128 * 1024) == ARCHIVE_OK else {
            throw archiveError(reader, "open \(archivePath)")
        }
        try systemCall("create directory", destination) { mkdir(destination, 0o755) }
        let root = try systemCall("open", destination) { open(destination, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { close(root) }

        var tree = ArchiveTree()
        var summary = ExtractionSummary(bytes: 0, entries: 0)
        var symlinks: [([String], String)] = []
        var buffer = [UInt8](repeating: 0, count: 256 * 1024)
        var entry: OpaquePointer?
        while true {
            let status = archive_read_next_header(reader, &entry)
            if status == ARCHIVE_EOF { break }
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else {
                throw archiveError(reader, "read entry")
            }
            summary.entries += 1
            guard summary.entries <= limits.maximumEntries else {
                throw UpdateError(.archiveTooManyFiles, "package has more than \(limits.maximumEntries) entries")
            }
            guard let rawName = archive_entry_pathname_utf8(entry) else {
                throw UpdateError(.archiveUnsafePath, "archive entry name is not valid UTF-8")
            }
            let name = String(cString: rawName)
            let components = try ArchiveTree.components(ofEntryName: name)
            if components.isEmpty { continue }  // "./": the root itself
            let path = components.joined(separator: "/")
            try tree.checkParents(of: components, entryName: name)
            if let existing = tree.node(at: components), existing != .directory || archive_entry_filetype(entry) != FileType.directory {
                throw UpdateError(.archiveMalformed, "archive entry \(String(reflecting: name)) appears twice")
            }
            try createParents(components, root: root, tree: &tree)

            if let hardlink = archive_entry_hardlink_utf8(entry) {
                let targetName = String(cString: hardlink)
                let target = try ArchiveTree.components(ofEntryName: targetName)
                guard tree.node(at: target) == .file else {
                    throw UpdateError(.archiveLinkEscape, "hard link \(String(reflecting: name)) points to \(String(reflecting: targetName)), not a file of this package")
                }
                try tree.checkParents(of: target, entryName: targetName)
                try systemCall("link", path) { linkat(root, target.joined(separator: "/"), root, path, 0) }
                tree.add(components, .file)
                continue
            }

            switch archive_entry_filetype(entry) {
            case FileType.directory:
                if tree.node(at: components) == nil {
                    try systemCall("create directory", path) { mkdirat(root, path, 0o755) }
                    tree.add(components, .directory)
                }
            case FileType.regular:
                let executable = archive_entry_perm(entry) & 0o111 != 0
                let fd = try systemCall("create", path) {
                    openat(root, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, executable ? 0o755 : 0o644)
                }
                tree.add(components, .file)
                defer { close(fd) }
                while true {
                    let count = buffer.withUnsafeMutableBytes { archive_read_data(reader, $0.baseAddress, $0.count) }
                    if count == 0 { break }
                    guard count > 0 else { throw archiveError(reader, "read \(path)") }
                    summary.bytes += Int64(count)
                    guard summary.bytes <= limits.maximumBytes else {
                        throw UpdateError(.archiveTooLarge, "package unpacks to more than \(limits.maximumBytes) bytes")
                    }
                    try buffer.withUnsafeBytes { (bytes) in
                        try FileSystem.writeAll(fd, UnsafeRawBufferPointer(rebasing: bytes[..<count]), path: path)
                    }
                }
            case FileType.symlink:
                guard let rawTarget = archive_entry_symlink_utf8(entry) else {
                    throw UpdateError(.archiveMalformed, "symlink \(String(reflecting: name)) has no UTF-8 target")
                }
                let target = String(cString: rawTarget)
                guard !target.hasPrefix("/"), !target.isEmpty, target.utf8.count <= 4096 else {
                    throw UpdateError(.archiveLinkEscape, "symlink \(String(reflecting: name)) -> \(String(reflecting: target)) leaves the package")
                }
                try systemCall("symlink", path) { symlinkat(target, root, path) }
                tree.add(components, .symlink(target: target))
                symlinks.append((components, target))
            default:
                throw UpdateError(.archiveUnsupportedEntry, "archive entry \(String(reflecting: name)) is a device, FIFO or socket")
            }
        }
        // Judge links once the whole tree is known: a later entry can change where an
        // earlier link leads.
        for (components, target) in symlinks where !tree.symlinkStaysInside(at: components, target: target) {
            throw UpdateError(.archiveLinkEscape, "symlink \(String(reflecting: components.joined(separator: "/"))) -> \(String(reflecting: target)) leads outside the package")
        }
        return summary
    }

    /// Creates directories that the archive implies but does not list.
    private static func createParents(_ components: [String], root: Int32, tree: inout ArchiveTree) throws {
        for length in 1..<max(components.count, 1) {
            let parent = Array(components[..<length])
            if tree.node(at: parent) == nil {
                let path = parent.joined(separator: "/")
                try systemCall("create directory", path) { mkdirat(root, path, 0o755) }
                tree.add(parent, .directory)
            }
        }
    }

    static func archiveError(_ archive: OpaquePointer, _ operation: String) -> UpdateError {
        let message = archive_error_string(archive).map { String(cString: $0) } ?? "unknown error"
        let code = archive_errno(archive)
        if code == ENOSPC || code == EDQUOT { return UpdateError(.noSpace, "\(operation): \(message)") }
        return UpdateError(.archiveMalformed, "\(operation): \(message)")
    }
}

/// libarchive's `AE_IF*` constants are cast macros, which Swift does not import; these are
/// the same values (the POSIX `S_IF*` bits).
enum FileType {
    static let mask: mode_t = 0o170000
    static let regular: mode_t = 0o100000
    static let directory: mode_t = 0o040000
    static let symlink: mode_t = 0o120000
}
