#if canImport(Glibc)
import Glibc
#endif

/// Numbers, sizes and times in the words people read.
public enum HumanText {
    /// `1 app`, `2 apps`, `0 updates`: the plural unless the count is one.
    public static func count(_ count: Int, _ singular: String, _ plural: String? = nil) -> String {
        "\(count) \(count == 1 ? singular : plural ?? singular + "s")"
    }

    /// `512 B`, `1.5 KiB`, `24.0 MiB`, `3.2 GiB`.
    public static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : "\(oneDecimal(value)) \(units[unit])"
    }

    /// A span such as `45 seconds`, `3 minutes`, `2 hours`, `5 days`, rounded down to its
    /// largest unit.
    public static func span(seconds: Int64) -> String {
        let seconds = max(0, seconds)
        switch seconds {
        case ..<60: return count(Int(seconds), "second")
        case ..<3600: return count(Int(seconds / 60), "minute")
        case ..<86_400: return count(Int(seconds / 3600), "hour")
        default: return count(Int(seconds / 86_400), "day")
        }
    }

    /// `3 minutes ago`, `in 2 days`, `just now`, relative to `now`.
    public static func relative(_ time: Int64, now: Int64) -> String {
        let delta = time - now
        if abs(delta) < 5 { return "just now" }
        return delta < 0 ? "\(span(seconds: -delta)) ago" : "in \(span(seconds: delta))"
    }

    /// A local time and how long ago or ahead it is: `2026-12-08 12:00:05 (3 minutes ago)`;
    /// `never` for nil.
    public static func time(_ seconds: Int64?, now: Int64 = currentTime()) -> String {
        guard let seconds else { return "never" }
        return "\(localTime(seconds)) (\(relative(seconds, now: now)))"
    }

    /// `2026-12-08 12:00:05`, local time.
    public static func localTime(_ seconds: Int64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        localtime_r(&time, &parts)
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
    }

    /// `2026-12-08T12:00:05Z`: UTC, ISO 8601, to the second.
    public static func utcTime(_ seconds: Int64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    /// Seconds since the epoch, now.
    public static func currentTime() -> Int64 { Int64(Glibc.time(nil)) }

    static func oneDecimal(_ value: Double) -> String {
        let tenths = Int64((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    private static func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
