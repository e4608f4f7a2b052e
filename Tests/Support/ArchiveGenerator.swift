import CArchive
import Foundation

/// Writes tar archives with arbitrary, hostile entries, which no honest packer would make.
public enum ArchiveGenerator {
    public enum Entry: Sendable {
        case file(String, [UInt8])
        /// A file entry that claims `size` bytes of zeros, written in 1 MiB chunks (compresses to almost nothing).
        case zeros(String, size: Int)
        case directory(String)
        case symlink(String, target: String)
        case hardlink(String, target: String)
        case characterDevice(String)
        case fifo(String)
    }

    /// Writes `entries` as a zstd-compressed pax tar to `path`.
    public static func write(_ entries: [Entry], to path: String) throws {
        guard let writer = archive_write_new() else { throw POSIXError(.ENOMEM) }
        defer { archive_write_free(writer) }
        archive_write_set_format_pax_restricted(writer)
        archive_write_add_filter_zstd(writer)
        guard archive_write_open_filename(writer, path) == ARCHIVE_OK else { throw POSIXError(.EIO) }
        for item in entries {
            guard let entry = archive_entry_new() else { throw POSIXError(.ENOMEM) }
            defer { archive_entry_free(entry) }
            var data: [UInt8] = []
            var zeros = 0
            switch item {
            case .file(let name, let bytes):
                archive_entry_set_pathname(entry, name)
                archive_entry_set_filetype(entry, 0o100000)
                archive_entry_set_perm(entry, 0o644)
                archive_entry_set_size(entry, Int64(bytes.count))
                data = bytes
            case .zeros(let name, let size):
                archive_entry_set_pathname(entry, name)
                archive_entry_set_filetype(entry, 0o100000)
                archive_entry_set_perm(entry, 0o644)
                archive_entry_set_size(entry, Int64(size))
                zeros = size
            case .directory(let name):
                archive_entry_set_pathname(entry, name)
                archive_entry_set_filetype(entry, 0o040000)
                archive_entry_set_perm(entry, 0o755)
            case .symlink(let name, let target):
                archive_entry_set_pathname(entry, name)
                archive_entry_set_filetype(entry, 0o120000)
                archive_entry_set_symlink(entry, target)
            case .hardlink(let name, let target):
                archive_entry_set_pathname(entry, name)
                archive_entry_set_filetype(entry, 0o100000)
                archive_entry_set_hardlink(entry, target)
                archive_entry_set_size(entry, 0)
            case .characterDevice(let name):
                archive_entry_set_pathname(entry, name)
                archive_entry_set_filetype(entry, 0o020000)
                archive_entry_set_rdev(entry, 0x0103)
            case .fifo(let name):
                archive_entry_set_pathname(entry, name)
                archive_entry_set_filetype(entry, 0o010000)
            }
            guard archive_write_header(writer, entry) == ARCHIVE_OK else { throw POSIXError(.EIO) }
            if !data.isEmpty {
                _ = data.withUnsafeBytes { archive_write_data(writer, $0.baseAddress, $0.count) }
            }
            let chunk = [UInt8](repeating: 0, count: 1 << 20)
            while zeros > 0 {
                let count = min(zeros, chunk.count)
                _ = chunk.withUnsafeBytes { archive_write_data(writer, $0.baseAddress, count) }
                zeros -= count
            }
        }
        guard archive_write_close(writer) == ARCHIVE_OK else { throw POSIXError(.EIO) }
    }
}
