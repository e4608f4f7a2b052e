import ArgumentParser
import FoundationEssentials

/// `--json` and `-q/--quiet`, for every command that prints something.
public struct OutputOptions: ParsableArguments, Sendable {
    /// `--json`: print the result, or the failure, as JSON on stdout and nothing for people.
    @Flag(name: .long, help: "Print JSON on stdout, and nothing else, also on failure: {\"error\": {\"code\", \"reason\", \"message\"}}.")
    public var json = false

    /// `-q`/`--quiet`: print nothing but errors.
    @Flag(name: [.short, .long], help: "Print nothing but errors.")
    public var quiet = false

    /// Both flags off; ArgumentParser sets them from the command line.
    public init() {}

    /// Prints a line for people, unless `--quiet` or `--json`.
    public func say(_ line: String) {
        guard !quiet, !json else { return }
        print(line)
    }

    /// Prints `value` as JSON when `--json` is on; returns whether it did.
    @discardableResult
    public func printJSONIfAsked(_ value: some Encodable) -> Bool {
        guard json else { return false }
        JSONOutput.print(value)
        return true
    }
}

/// JSON on stdout, in one style: sorted keys, pretty, no escaped slashes.
public enum JSONOutput {
    /// Prints `value` as pretty JSON with sorted keys, followed by a newline; `null` if it
    /// cannot be encoded.
    public static func print(_ value: some Encodable) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Our own result types always encode.
        Swift.print(String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self))
    }

    /// `{"error": {"code", "reason", "message", "hint"?}}`: what `--json` prints on failure.
    public struct Failure: Encodable {
        /// The members of the `error` object.
        public struct Body: Encodable {
            /// The JSON-RPC number of `reason`, or for the command line's own reasons the exit
            /// status (64 for `usage`).
            public var code: Int
            /// miniupdate's error code, such as `index-expired`, or one of the command line's own
            /// reasons: `usage`, `daemon-unreachable`, `permission-denied`, `configuration` or `failed`.
            public var reason: String
            /// What went wrong, for people.
            public var message: String
            /// What to do about it, such as `systemctl start miniupdated.socket`; left out of the
            /// JSON when there is nothing to name.
            public var hint: String?
        }

        /// The failure, under the key `error`.
        public var error: Body
    }
}
