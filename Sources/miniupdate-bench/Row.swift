/// One line of the result table.
struct Row: Sendable {
    var scenario: String
    var ours: String
    var baseline: String
    var ratio: String
    var target: String
    var met: Bool
    /// The baseline that missed the same target in the same run, when ours missed it: the
    /// table says so, for the reader to tell our misses from the machine's.
    var alsoMissedBy: String?

    /// A row whose figure is a time in microseconds, with an optional baseline.
    static func time(_ scenario: String, _ ours: Double, baseline: (String, Double)? = nil, target: Double?, targetText: String? = nil) -> Row {
        Row(
            scenario: scenario,
            ours: formatMicroseconds(ours),
            baseline: baseline.map { "\(formatMicroseconds($0.1)) (\($0.0))" } ?? "—",
            ratio: baseline.map { String(format: "%.2f×", ours / $0.1) } ?? "—",
            target: targetText ?? target.map { "≤ \(formatMicroseconds($0))" } ?? "",
            met: target.map { ours <= $0 } ?? false
        )
    }

    /// A time whose target is a ratio to its baseline, such as "≤ 2.5× C echo".
    static func time(_ scenario: String, _ ours: Double, baseline: (String, Double), ratioTarget: Double) -> Row {
        var row = time(scenario, ours, baseline: baseline, target: nil, targetText: String(format: "≤ %.1f× %@", ratioTarget, baseline.0))
        row.met = ours <= ratioTarget * baseline.1
        return row
    }

    /// The table's last column: empty for a row without a target.
    var verdict: String {
        if target.isEmpty { return "" }
        if met { return "yes" }
        return alsoMissedBy.map { "NO; the \($0) too" } ?? "NO"
    }

    static func formatMicroseconds(_ value: Double) -> String {
        if value >= 1_000_000 { return String(format: "%.2f s", value / 1_000_000) }
        if value >= 1_000 { return String(format: "%.1f ms", value / 1_000) }
        return String(format: "%.0f µs", value)
    }

    static func table(_ rows: [Row]) -> String {
        let header = ["scenario", "ours", "baseline (same run)", "ratio", "target", "met"]
        let cells = [header] + rows.map { [$0.scenario, $0.ours, $0.baseline, $0.ratio, $0.target, $0.verdict] }
        let widths = (0..<header.count).map { column in cells.map { $0[column].count }.max() ?? 0 }
        func line(_ row: [String]) -> String {
            "| " + row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: " | ") + " |"
        }
        return ([line(header), "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|"] + cells.dropFirst().map(line))
            .joined(separator: "\n")
    }
}
