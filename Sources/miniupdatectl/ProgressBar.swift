import MiniupdateCommandLine

/// A one-line progress bar on a terminal, redrawn in place (see ``ProgressLine``); a new
/// version's download starts a new bar.
struct ProgressBar {
    let app: String
    private var line: ProgressLine?

    init(label app: String) { self.app = app }

    mutating func draw(version: String, done: Int64, total: Int64) {
        let label = "\(app) \(version)"
        var current = line?.label == label ? line! : ProgressLine(label: label)
        print("\r\u{1B}[K\(current.text(done: done, total: total))", terminator: "")
        line = current
        flushStandardOutput()
    }

    /// Removes the bar, leaving the cursor at the start of an empty line.
    static func clear() {
        print("\r\u{1B}[K", terminator: "")
        flushStandardOutput()
    }
}
