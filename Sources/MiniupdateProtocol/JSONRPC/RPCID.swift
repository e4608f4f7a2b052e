/// A request id: a number or a string, echoed in the response.
public enum RPCID: Sendable, Hashable, Codable, CustomStringConvertible {
    /// A numeric id, such as `1`.
    case number(Int64)
    /// A string id, such as `"a1"`.
    case string(String)

    /// Decodes a number that fits a 64-bit integer as ``number(_:)``, and a string as
    /// ``string(_:)``.
    /// - Throws: For any other value, such as `true`, an object, or a number that is not a
    ///   64-bit integer.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int64.self) {
            self = .number(number)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

    /// Encodes the id as a JSON number or string, as it was received.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let number): try container.encode(number)
        case .string(let string): try container.encode(string)
        }
    }

    /// The id for messages and logs: `7`, or `"a1"` in quotes, so `7` and `"7"` differ.
    public var description: String {
        switch self {
        case .number(let number): "\(number)"
        case .string(let string): String(reflecting: string)
        }
    }
}
