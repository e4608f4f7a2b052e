import MiniupdateCore
import MiniupdateRepository

/// The parsed text of `miniupdate.conf`: `key = value` lines, `#` comments, blank lines.
/// Strict: an unknown key, a repeated single-valued key or a malformed line is an error
/// that names the file and the line, never something silently skipped.
struct ConfigurationFile: Sendable, Equatable {
    struct Entry: Sendable, Equatable {
        var key: String
        var value: String
        var line: Int
    }

    var path: String
    var entries: [Entry] = []

    static let singleKeys: Set<String> = [
        "repository", "state-directory", "cache-directory", "socket", "log-level", "check-interval", "check-retry-interval",
        "max-concurrent-downloads", "max-index-size", "max-package-size", "max-unpacked-size", "max-files",
        "connect-timeout", "idle-timeout", "transfer-timeout", "low-speed-limit", "low-speed-time",
        "max-redirects", "keep-alive-timeout", "max-clients", "max-client-queue", "max-subscriptions", "admin-group",
    ]
    static let repeatedKeys: Set<String> = ["trusted-key"]
    /// Keys of the form `app-owner.<app id>`.
    static let appOwnerPrefix = "app-owner."

    init(path: String, text: String) throws {
        self.path = path
        var seen: Set<String> = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw UpdateError(.invalidArgument, "\(path):\(number): expected 'key = value'")
            }
            let key = String(line[..<equals].trimmingWhitespace())
            let value = String(line[line.index(after: equals)...].trimmingWhitespace())
            guard Self.singleKeys.contains(key) || Self.repeatedKeys.contains(key) || key.hasPrefix(Self.appOwnerPrefix) else {
                throw UpdateError(.invalidArgument, "\(path):\(number): unknown setting \(String(reflecting: key))")
            }
            guard !value.isEmpty else { throw UpdateError(.invalidArgument, "\(path):\(number): \(key) has no value") }
            if !Self.repeatedKeys.contains(key) {
                guard seen.insert(key).inserted else {
                    throw UpdateError(.invalidArgument, "\(path):\(number): \(key) is set twice")
                }
            }
            entries.append(Entry(key: key, value: value, line: number))
        }
    }

    func value(_ key: String) -> Entry? { entries.first { $0.key == key } }
    func values(_ key: String) -> [Entry] { entries.filter { $0.key == key } }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" || first == "\r" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" || last == "\r" { result.removeLast() }
        return result
    }
}

/// Values in the configuration file and on the command line.
enum SettingValue {
    /// `500ms`, `30s`, `10m`, `2h`, `1d`; a bare number is seconds.
    static func duration(_ text: String) -> Duration? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, milliseconds) in units where text.hasSuffix(suffix) {
            guard let amount = Int64(text.dropLast(suffix.count)), amount >= 0 else { return nil }
            return .milliseconds(amount * milliseconds)
        }
        return Int64(text).flatMap { $0 >= 0 ? .seconds($0) : nil }
    }

    /// `512`, `64K`, `8M`, `4G` (powers of 1024).
    static func size(_ text: String) -> Int64? {
        let units: [(Character, Int64)] = [("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("T", 1 << 40)]
        if let last = text.last, let unit = units.first(where: { $0.0 == last }) {
            guard let amount = Int64(text.dropLast()), amount >= 0 else { return nil }
            let (value, overflow) = amount.multipliedReportingOverflow(by: unit.1)
            return overflow ? nil : value
        }
        return Int64(text).flatMap { $0 >= 0 ? $0 : nil }
    }
}
