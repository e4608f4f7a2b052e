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
        "max-redirects", "keep-alive-timeout", "max-clients", "max-client-queue", "max-subscriptions", "max-batch", "admin-group",
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
