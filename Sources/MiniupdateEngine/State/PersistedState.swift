import FoundationEssentials
import MiniupdateCore
import MiniupdateRepository

/// One line of an app's or the repository's history.
struct HistoryEntry: Codable, Sendable, Equatable {
    enum Event: String, Codable, Sendable {
        case checked, downloaded, installed, applied, rolledBack = "rolled-back", failed
        case fetched, notModified = "not-modified", development
    }

    var time: Int64
    var event: Event
    var version: Version?
    var detail: String?
}

/// `apps/<id>/state.json`. The `current` symlink, not this file, says what is installed;
/// this file adds what the filesystem cannot: the previous and held-back versions, the
/// last error and the history.
struct PersistedAppState: Codable, Sendable, Equatable {
    var format = 1
    var installed: Version?
    var development = false
    var previous: Version?
    var staged: Version?
    var heldBack: Version?
    var lastCheck: Int64?
    var lastError: UpdateError?
    var history: [HistoryEntry] = []
}

/// `repository.json`: what the client accepted last, and how to ask again cheaply.
struct PersistedRepositoryState: Codable, Sendable, Equatable {
    var format = 1
    /// The repository these facts are about; a different one starts afresh.
    var location: String?
    var accepted: IndexVerifier.Accepted?
    var validators: Validators?
    var lastCheck: Int64?
    var lastError: UpdateError?
    var history: [HistoryEntry] = []
}

/// An error as the state files keep it: `{"code": "no-space", "message": "…"}`.
extension UpdateError: Codable {
    private enum CodingKeys: String, CodingKey { case code, message }

    /// Decodes `{"code", "message"}`; a code this version does not know keeps its name.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(try container.decode(Code.self, forKey: .code), try container.decode(String.self, forKey: .message))
    }

    /// Encodes the string code and the message.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(code, forKey: .code)
        try container.encode(message, forKey: .message)
    }
}

enum StateFile {
    static func load<Value: Decodable>(_ type: Value.Type, from path: String) throws -> Value? {
        guard let bytes = try FileSystem.readFileIfPresent(path, limit: 16 << 20) else { return nil }
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw UpdateError(.stateCorrupt, "\(path): \(error)")
        }
    }

    static func save(_ value: some Encodable, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let bytes: Data
        do {
            bytes = try encoder.encode(value)
        } catch {
            throw UpdateError(.io, "encode \(path): \(error)")
        }
        try FileSystem.writeAtomically(Array(bytes) + [UInt8(ascii: "\n")], to: path)
    }
}

extension Array where Element == HistoryEntry {
    mutating func record(_ entry: HistoryEntry, limit: Int) {
        append(entry)
        if count > limit { removeFirst(count - limit) }
    }
}
