/// An error from any layer of miniupdate, with a stable machine-readable ``Code``.
///
/// Clients match on ``code``; ``message`` is for people and may change between releases.
/// The style follows swift-service-lifecycle's `ServiceGroupError`: one struct, an
/// extensible set of codes, no enum that breaks callers when a case is added.
public struct UpdateError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable identifier for a kind of failure, and the number JSON-RPC error responses
    /// carry for it. Its ``rawValue`` appears on the wire (`error.data.reason`), in state
    /// files and in logs; neither it nor its ``number`` ever changes meaning.
    ///
    /// Every code miniupdate defines is in one table, ``all``, in `UpdateError+Codes.swift`.
    public struct Code: Hashable, Sendable, CustomStringConvertible, Codable {
        /// The code's stable name, such as `index-expired`: what goes on the wire, into state
        /// files and logs, and what two codes are compared by.
        public let rawValue: String
        /// The JSON-RPC `error.code` of this reason: 1000s for requests the daemon refuses,
        /// 2000s for repository and verification failures, 3000s for local failures.
        public let number: Int

        /// A code of the table; only the table makes them.
        init(_ rawValue: String, _ number: Int) {
            self.rawValue = rawValue
            self.number = number
        }

        /// The code named `rawValue`. A name this version does not know (a newer daemon's)
        /// is kept as it is, with `number` when the peer sent one.
        public init(rawValue: String, number: Int? = nil) {
            if let known = Self.byRawValue[rawValue] {
                self = known
            } else {
                self.init(rawValue, number ?? Self.unknownNumber)
            }
        }

        /// The number of a code this version does not know and whose number was not sent:
        /// JSON-RPC's "internal error".
        public static let unknownNumber = -32603

        /// Whether ``all`` has this code.
        public var isKnown: Bool { Self.byRawValue[rawValue] != nil }

        private static let byRawValue: [String: Code] = Dictionary(uniqueKeysWithValues: all.map { ($0.rawValue, $0) })

        /// Decodes a code from its name alone; a name this version does not know keeps
        /// ``unknownNumber``.
        public init(from decoder: any Decoder) throws {
            self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
        }

        /// Encodes the code as its name alone, without its ``number``.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(rawValue)
        }

        /// Two codes are the same code when their names are: a number is the name's.
        public static func == (lhs: Code, rhs: Code) -> Bool { lhs.rawValue == rhs.rawValue }
        /// Hashes the name only, consistent with `==`.
        public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

        /// The code's name, as it appears in logs and messages.
        public var description: String { rawValue }
    }

    /// What kind of failure this is: the part to match on.
    public let code: Code
    /// A description of this failure for people; it may change between releases.
    public let message: String

    /// An error of kind `code`, explained by `message`.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The message followed by the code in brackets: `message [code]`.
    public var description: String { "\(message) [\(code)]" }
}
