import ArgumentParser
import FoundationEssentials

/// `--json` and `-q/--quiet`, for every command that prints something.
public struct OutputOptions: ParsableArguments, Sendable {
    @Flag(name: .long, help: "Print JSON on stdout, and nothing else, also on failure: {\"error\": {\"code\", \"reason\", \"message\"}}.")
    public var json = false

    @Flag(name: [.short, .long], help: "Print nothing but errors.")
    public var quiet = false

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
    public static func print(_ value: some Encodable) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Our own result types always encode.
        Swift.print(String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self))
    }

    /// `{"error": {"code", "reason", "message", "hint"?}}`: what `--json` prints on failure.
    public struct Failure: Encodable {
        public struct Body: Encodable {
            /// The JSON-RPC number of `reason`; 64 for a usage error.
            public var code: Int
            /// miniupdate's error code, or `usage` for a usage error.
            public var reason: String
            public var message: String
            public var hint: String?
        }

        public var error: Body
    }
}
