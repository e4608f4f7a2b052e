/// A mini app's identifier, in reverse-DNS style: `^[a-z0-9][a-z0-9._-]{0,127}$`, without `..`.
///
/// Ids become directory names, so an `AppID` can only be made by validating a string.
public struct AppID: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    /// The validated id, such as `com.example.weather`; safe to use as a directory name.
    public let rawValue: String

    /// Validates `rawValue`, throwing ``UpdateError/Code/invalidAppID`` when it is not an app id.
    public init(_ rawValue: String) throws {
        guard Self.isValid(rawValue) else {
            throw UpdateError(.invalidAppID, "invalid app id \(String(reflecting: rawValue.prefix(140))): expected ^[a-z0-9][a-z0-9._-]{0,127}$ without '..'")
        }
        self.rawValue = rawValue
    }

    /// Whether `candidate` is an app id: 1 to 128 bytes of `[a-z0-9._-]`, starting with a
    /// lower-case letter or digit, with no `..`.
    public static func isValid(_ candidate: String) -> Bool {
        let bytes = Array(candidate.utf8)
        guard (1...128).contains(bytes.count) else { return false }
        func isLowerAlnum(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        guard isLowerAlnum(bytes[0]) else { return false }
        var previous: UInt8 = 0
        for byte in bytes.dropFirst() {
            guard isLowerAlnum(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") else {
                return false
            }
            if byte == UInt8(ascii: "."), previous == UInt8(ascii: ".") { return false }
            previous = byte
        }
        return true
    }

    /// Decodes an id from a string, validating it as ``init(_:)`` does: throws
    /// ``UpdateError/Code/invalidAppID`` when it is not an app id.
    public init(from decoder: any Decoder) throws {
        let string = try decoder.singleValueContainer().decode(String.self)
        try self.init(string)
    }

    /// Encodes the id as a plain string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// The id itself.
    public var description: String { rawValue }

    /// Orders ids bytewise by their text, for stable listings.
    public static func < (lhs: AppID, rhs: AppID) -> Bool { lhs.rawValue < rhs.rawValue }
}
