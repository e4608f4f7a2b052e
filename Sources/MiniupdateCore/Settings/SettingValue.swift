/// Durations and sizes as people write them, in the configuration file and on every
/// command line: one grammar, so `7d` means the same to `miniupdate-repo` and
/// `miniupdated`.
public enum SettingValue {
    private static let durationUnits: [(suffix: String, milliseconds: Int64)] = [
        ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000), ("w", 604_800_000),
    ]

    /// `500ms`, `30s`, `10m`, `2h`, `1d`, `2w`; a bare number is seconds. Nil for anything
    /// else, a negative amount, or more than a century.
    public static func duration(_ text: String) -> Duration? {
        var amountText = Substring(text)
        var unit: Int64 = 1000
        for (suffix, milliseconds) in durationUnits where text.hasSuffix(suffix) {
            amountText = text.dropLast(suffix.count)
            unit = milliseconds
            break
        }
        guard !amountText.isEmpty, amountText.allSatisfy(\.isASCIIDigit), let amount = Int64(amountText) else { return nil }
        let (milliseconds, overflow) = amount.multipliedReportingOverflow(by: unit)
        guard !overflow, milliseconds <= 100 * 366 * 86_400_000 else { return nil }
        return .milliseconds(milliseconds)
    }

    /// The shortest text ``duration(_:)`` reads back as `duration`, in days at most:
    /// `7d`, `90s`, `1500ms`.
    public static func describe(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        guard milliseconds > 0 else { return "0" }
        // Days at most: a week reads as `7d`, as people say it.
        for (suffix, unit) in durationUnits.dropLast().reversed() where milliseconds % unit == 0 {
            return "\(milliseconds / unit)\(suffix)"
        }
        return "\(milliseconds)ms"
    }

    /// `512`, `64K`, `8M`, `4G`, `1T` (powers of 1024). Nil for anything else.
    public static func size(_ text: String) -> Int64? {
        let units: [(Character, Int64)] = [("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("T", 1 << 40)]
        var amountText = Substring(text)
        var unit: Int64 = 1
        if let last = text.last, let match = units.first(where: { $0.0 == last }) {
            amountText = text.dropLast()
            unit = match.1
        }
        guard !amountText.isEmpty, amountText.allSatisfy(\.isASCIIDigit), let amount = Int64(amountText) else { return nil }
        let (value, overflow) = amount.multipliedReportingOverflow(by: unit)
        return overflow ? nil : value
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
