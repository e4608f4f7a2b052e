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
    /// The duration given, always positive when parsed from the command line.
    public let duration: Duration

    /// A duration as is, for an option's default value.
    public init(_ duration: Duration) { self.duration = duration }

    /// Parses `argument` as `SettingValue.duration(_:)` does; nil, which
    /// ArgumentParser reports as a usage error, for anything else or for zero.
    public init?(argument: String) {
        guard let duration = SettingValue.duration(argument), duration > .zero else { return nil }
        self.duration = duration
    }

    /// The duration as written back: `7d`, `90s`, `1500ms`.
    public var description: String { SettingValue.describe(duration) }
    /// How help shows a default: as it would be written, `7d`.
    public var defaultValueDescription: String { description }
}
