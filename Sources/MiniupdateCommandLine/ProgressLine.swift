/// The text of a download's progress line on a terminal: bar, percentage, bytes, rate and
/// the time left, as apt and snap show them.
///
/// `com.example.weather 1.1.0 [##########----------] 50%  12.0 MiB/24.0 MiB  3.1 MiB/s  ETA 4 seconds`
public struct ProgressLine: Sendable {
    /// What is downloading, such as `com.example.weather 1.1.0`.
    public let label: String
    /// The bar's width in characters.
    public var width = 20
    /// The first report: the rate counts from it, so time spent before the download began
    /// (queueing, the check) does not lower it.
    private var start: (time: ContinuousClock.Instant, bytes: Int64)?

    public init(label: String) { self.label = label }

    /// The line for `done` of `total` bytes at `now`. The rate and the time left appear
    /// once half a second has passed since the first report and bytes have come since.
    public mutating func text(done: Int64, total: Int64, now: ContinuousClock.Instant = .now) -> String {
        let start = self.start ?? (now, done)
        self.start = start
        let clamped = min(max(done, 0), max(total, 1))
        let filled = Int(clamped * Int64(width) / max(total, 1))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        var line = "\(label) [\(bar)] \(clamped * 100 / max(total, 1))%  \(HumanText.bytes(done))/\(HumanText.bytes(total))"
        let elapsed = now - start.time
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        if seconds >= 0.5, done > start.bytes {
            let rate = Double(done - start.bytes) / seconds
            let left = Int64((Double(max(total - done, 0)) / rate).rounded(.up))
            line += "  \(HumanText.bytes(Int64(rate)))/s  ETA \(HumanText.span(seconds: left))"
        }
        return line
    }
}
