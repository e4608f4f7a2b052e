import ArgumentParser
import MiniupdateCore

/// Command-line values parsed by the same rules everywhere; a bad one is a usage error
/// (exit 64) that says what is accepted.
public enum ArgumentValue {
    /// An app id argument: `--app com.example.weather`.
    public static func appID(_ text: String) throws -> AppID {
        do {
            return try AppID(text)
        } catch let error as UpdateError {
            throw ValidationError(error.message)
        }
    }

    /// A semantic version argument.
    public static func version(_ text: String) throws -> Version {
        do {
            return try Version(text)
        } catch let error as UpdateError {
            throw ValidationError(error.message)
        }
    }
}

/// A duration argument: `90s`, `30m`, `12h`, `7d`, `2w`, or a bare number of seconds, as
/// in `miniupdate.conf`. Help shows a default as it is written (`7d`).
public struct DurationArgument: ExpressibleByArgument, CustomStringConvertible, Sendable, Equatable {
    public let duration: Duration

    public init(_ duration: Duration) { self.duration = duration }

    public init?(argument: String) {
        guard let duration = SettingValue.duration(argument), duration > .zero else { return nil }
        self.duration = duration
    }

    public var description: String { SettingValue.describe(duration) }
    public var defaultValueDescription: String { description }
}
