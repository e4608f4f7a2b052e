#if canImport(Glibc)
import Glibc
#endif
import CSystemd
import Logging

/// A swift-log handler that writes structured entries to the journal with
/// `sd_journal_sendv(3)`.
///
/// Each entry carries `MESSAGE`, `PRIORITY`, `CODE_FILE`, `CODE_LINE`, `CODE_FUNC` and
/// `SYSLOG_IDENTIFIER`, and every metadata item as a field: `app` becomes `MINIUPDATE_APP`,
/// `version` `MINIUPDATE_VERSION`, `message-id` `MESSAGE_ID`, and any other key
/// `MINIUPDATE_<KEY>` with characters outside `[A-Z0-9_]` replaced, at most 64 characters,
/// as journald requires. So `journalctl -u miniupdated MINIUPDATE_APP=com.example.weather`
/// and `journalctl MESSAGE_ID=…` work.
public struct JournalLogHandler: LogHandler {
    /// Metadata added to every entry, under the field names described above; a message's
    /// own metadata wins over an item with the same key.
    public var metadata: Logger.Metadata = [:]
    /// The lowest level written; swift-log drops less severe messages before they reach
    /// this handler.
    public var logLevel: Logger.Level = .info
    /// The `SYSLOG_IDENTIFIER` of every entry, such as `miniupdated`.
    public let identifier: String

    /// A handler writing entries under `identifier`, at level `info`, with no metadata.
    public init(identifier: String) { self.identifier = identifier }

    /// Whether stderr is connected to the journal: `$JOURNAL_STREAM` names the device and
    /// inode of the stream systemd connected, which must be the one fd 2 refers to.
    public static var isStandardErrorJournal: Bool {
        guard let value = getenv("JOURNAL_STREAM").map({ String(cString: $0) }) else { return false }
        let parts = value.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var info = stat()
        guard fstat(2, &info) == 0 else { return false }
        return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
    }

    /// The handler's metadata item `key`; nil when there is none.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes one entry for `event` to the journal, its metadata merged over the handler's
    /// ``metadata``.
    public func log(event: LogEvent) {
        write(level: event.level, message: event.message, metadata: event.metadata, file: event.file, function: event.function, line: event.line)
    }

    /// Writes one entry to the journal, with `explicit` merged over the handler's
    /// ``metadata``. `source` is not recorded.
    public func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        write(level: level, message: message, metadata: explicit, file: file, function: function, line: line)
    }

    private func write(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, file: String, function: String, line: UInt) {
        var fields = [
            "MESSAGE=\(message)",
            "PRIORITY=\(Self.priority(level))",
            "CODE_FILE=\(file)",
            "CODE_LINE=\(line)",
            "CODE_FUNC=\(function)",
            "SYSLOG_IDENTIFIER=\(identifier)",
        ]
        let merged = explicit.map { metadata.merging($0) { _, new in new } } ?? metadata
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            fields.append("\(Self.fieldName(key))=\(value)")
        }
        Self.send(fields)
    }

    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// The journal field for a metadata key.
    static func fieldName(_ key: String) -> String {
        switch key {
        case "app": return "MINIUPDATE_APP"
        case "version": return "MINIUPDATE_VERSION"
        case "message-id": return "MESSAGE_ID"
        default:
            let cleaned = key.uppercased().unicodeScalars.map { scalar -> Character in
                (scalar >= "A" && scalar <= "Z") || (scalar >= "0" && scalar <= "9") ? Character(scalar) : "_"
            }
            return String(("MINIUPDATE_" + String(cleaned)).prefix(64))
        }
    }

    private static func send(_ fields: [String]) {
        // One buffer holding every field, and an iovec pointing at each.
        var bytes: [UInt8] = []
        var ranges: [Range<Int>] = []
        for field in fields {
            let start = bytes.count
            bytes.append(contentsOf: field.utf8)
            ranges.append(start..<bytes.count)
        }
        bytes.withUnsafeMutableBytes { buffer in
            var vectors = ranges.map { range in
                iovec(iov_base: buffer.baseAddress! + range.lowerBound, iov_len: range.count)
            }
            _ = sd_journal_sendv(&vectors, Int32(vectors.count))
        }
    }
}
