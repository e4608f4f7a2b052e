#if canImport(Glibc)
import Glibc
#endif

/// What the terminal allows: whether a stream is one, and whether to colour it.
public enum Terminal {
    /// Whether standard output is a terminal.
    public static var standardOutputIsTerminal: Bool { isatty(1) == 1 }

    /// Colour only on a terminal, and never when `NO_COLOR` is set to anything
    /// (https://no-color.org), or `TERM` is `dumb`.
    public static func usesColour(fd: Int32 = 1) -> Bool {
        guard isatty(fd) == 1 else { return false }
        if let noColour = getenv("NO_COLOR"), noColour.pointee != 0 { return false }
        if let term = getenv("TERM"), String(cString: term) == "dumb" { return false }
        return true
    }

    /// The columns of the terminal on `fd`, or nil.
    public static func width(fd: Int32 = 1) -> Int? {
        var size = winsize()
        guard ioctl(fd, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }

    /// Writes `text` to standard error at once (the C `stderr` global is not
    /// concurrency-safe in Swift 6).
    public static func writeError(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}

/// Text attributes, written only when colour is on.
public struct Style: Sendable {
    /// Whether the attributes are written; when false, every method returns its text
    /// unchanged.
    public let enabled: Bool

    /// A style that writes attributes when `enabled`; by default, when standard output is
    /// a terminal that takes colour (``Terminal/usesColour(fd:)``).
    public init(enabled: Bool = Terminal.usesColour()) { self.enabled = enabled }

    /// `text` in bold (SGR 1).
    public func bold(_ text: String) -> String { wrap(text, "1") }
    /// `text` in red (SGR 31): errors and failures.
    public func red(_ text: String) -> String { wrap(text, "31") }
    /// `text` in green (SGR 32): good news, such as an update ready.
    public func green(_ text: String) -> String { wrap(text, "32") }
    /// `text` in yellow (SGR 33), for warnings.
    public func yellow(_ text: String) -> String { wrap(text, "33") }
    /// `text` dimmed (SGR 2), for details of less importance.
    public func dim(_ text: String) -> String { wrap(text, "2") }

    private func wrap(_ text: String, _ code: String) -> String {
        enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}
