import MiniupdateCommandLine

#if canImport(Glibc)
import Glibc
#endif

/// A one-line progress bar on a terminal: bytes, rate and time left.
///
/// `com.example.weather 1.1.0 [##########----------] 50%  12.0 MiB/24.0 MiB  3.1 MiB/s  ETA 4s`
struct ProgressBar {
    let label: String
    private var start: (time: ContinuousClock.Instant, bytes: Int64)?

    init(label: String) { self.label = label }

    mutating func draw(version: String, done: Int64, total: Int64) {
        let now = ContinuousClock.now
        let start = self.start ?? (now, done)
        self.start = start
        let width = 20
        let filled = Int(min(done, total) * Int64(width) / max(total, 1))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        var line = "\(label) \(version) [\(bar)] \(done * 100 / max(total, 1))%  \(HumanText.bytes(done))/\(HumanText.bytes(total))"
        let elapsed = now - start.time
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        if seconds >= 0.5, done > start.bytes {
            let rate = Double(done - start.bytes) / seconds
            line += "  \(HumanText.bytes(Int64(rate)))/s  ETA \(HumanText.span(seconds: Int64((Double(total - done) / rate).rounded(.up))))"
        }
        print("\r\u{1B}[K\(line)", terminator: "")
        flushStandardOutput()
    }

    /// Removes the bar, leaving the cursor at the start of an empty line.
    static func clear() {
        print("\r\u{1B}[K", terminator: "")
        flushStandardOutput()
    }
}
