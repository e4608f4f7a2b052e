import FoundationEssentials
import MiniupdateCore

/// The repository's table of contents: for every app, its latest release.
///
/// Clients fetch only this one document to check every installed app, so it carries all
/// they need to decide and to verify a download. It travels inside a ``SignedIndex``.
public struct RepositoryIndex: Sendable, Equatable {
    /// The only format this code reads and writes.
    public static let format = 1

    /// Increases with every publish. Clients refuse a serial lower than one they accepted.
    public var serial: UInt64
    /// When it was signed, in seconds since the Unix epoch.
    public var published: Int64
    /// After this moment, in seconds since the Unix epoch, clients refuse the index.
    public var expires: Int64
    /// Each app's latest release. An app that is not here is not in the repository.
    public var apps: [AppID: Release]

    /// An index with these values; times are seconds since the Unix epoch.
    public init(serial: UInt64, published: Int64, expires: Int64, apps: [AppID: Release] = [:]) {
        self.serial = serial
        self.published = published
        self.expires = expires
        self.apps = apps
    }
}

/// One version of one app, as the index describes it. Every value is valid: it is made only
/// by a throwing initializer or by decoding, both of which check it, and never changed.
public struct Release: Sendable, Equatable, Codable {
    /// The app's latest version; clients offer it only when it is higher than the installed one.
    public let version: Version
    /// The package's path relative to the repository root, for example
    /// `packages/com.example.weather/com.example.weather-1.4.0.tar.zst`.
    public let package: String
    /// The SHA-256 of the package file, in lower-case hex.
    public var sha256: String { digest.hex }
    private let digest: SHA256Bytes
    /// The package file's exact size in bytes.
    public let size: Int64
    /// The total size of the regular files in the package, once unpacked.
    public let installedSize: Int64
    /// The number of entries (files, directories, links) in the package.
    public let files: Int
    /// Free text for people, at most ``maximumNotesLength`` bytes.
    public let notes: String?

    /// The longest ``notes`` allowed, in UTF-8 bytes.
    public static let maximumNotesLength = 4096

    /// Throws `index-malformed` for values no index may carry: an unsafe
    /// package path, a hash that is not 64 lower-case hex digits, negative sizes, long notes.
    public init(version: Version, package: String, sha256: String, size: Int64, installedSize: Int64, files: Int, notes: String? = nil) throws {
        func malformed(_ why: String) -> UpdateError { UpdateError(.indexMalformed, "release \(version): \(why)") }
        guard let digest = SHA256Bytes(hex: sha256) else { throw malformed("sha256 must be 64 lower-case hex digits") }
        guard Self.isValidPackagePath(package) else { throw malformed("package path \(String(reflecting: package)) is not a safe relative path") }
        guard size > 0, installedSize >= 0, files >= 0 else { throw malformed("sizes and counts must not be negative") }
        guard (notes?.utf8.count ?? 0) <= Self.maximumNotesLength else { throw malformed("notes exceed \(Self.maximumNotesLength) bytes") }
        self.version = version
        self.package = package
        self.digest = digest
        self.size = size
        self.installedSize = installedSize
        self.files = files
        self.notes = notes
    }

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case version, package, sha256, size, installedSize, files, notes
    }

    /// Decodes a release strictly: `index-malformed` for an unknown key or a
    /// value ``init(version:package:sha256:size:installedSize:files:notes:)`` refuses,
    /// `invalid-version` for a bad version, and a `DecodingError` for a
    /// missing key or a value of the wrong type.
    public init(from decoder: any Decoder) throws {
        try rejectUnknownKeys(in: decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            version: container.decode(Version.self, forKey: .version),
            package: container.decode(String.self, forKey: .package),
            sha256: container.decode(String.self, forKey: .sha256),
            size: container.decode(Int64.self, forKey: .size),
            installedSize: container.decode(Int64.self, forKey: .installedSize),
            files: container.decode(Int.self, forKey: .files),
            notes: container.decodeIfPresent(String.self, forKey: .notes)
        )
    }

    /// Encodes the release with the index's keys; `notes` is left out when nil.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(version, forKey: .version)
        try container.encode(package, forKey: .package)
        try container.encode(sha256, forKey: .sha256)
        try container.encode(size, forKey: .size)
        try container.encode(installedSize, forKey: .installedSize)
        try container.encode(files, forKey: .files)
        try container.encodeIfPresent(notes, forKey: .notes)
    }

    /// A package path is relative, made of `[A-Za-z0-9._+-]` components that are not `.` or
    /// `..`, and at most 512 bytes, so it means the same thing as a URL path and a file path.
    public static func isValidPackagePath(_ path: String) -> Bool {
        guard !path.isEmpty, path.utf8.count <= 512 else { return false }
        return path.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { component in
            !component.isEmpty && component != "." && component != ".."
                && component.utf8.allSatisfy { byte in
                    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                        || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: ".")
                        || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
                }
        }
    }
}

extension RepositoryIndex: Codable {
    private enum CodingKeys: String, CodingKey, CaseIterable {
        case format, serial, published, expires, apps
    }

    /// Decodes an index body strictly: `index-malformed` for an unknown key or
    /// a `format` other than ``format``, `invalid-app-id` for a bad app id,
    /// the errors of ``Release/init(from:)``, and a `DecodingError` for a missing key or a
    /// number that does not fit. ``IndexVerifier`` reports them all as
    /// `index-malformed`. Duplicate keys are not detected here: run
    /// `StrictJSON` first.
    public init(from decoder: any Decoder) throws {
        try rejectUnknownKeys(in: decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let format = try container.decode(Int.self, forKey: .format)
        guard format == Self.format else {
            throw UpdateError(.indexMalformed, "index format \(format) is not supported (expected \(Self.format))")
        }
        serial = try container.decode(UInt64.self, forKey: .serial)
        published = try container.decode(Int64.self, forKey: .published)
        expires = try container.decode(Int64.self, forKey: .expires)
        let byName = try container.decode([String: Release].self, forKey: .apps)
        var apps: [AppID: Release] = [:]
        apps.reserveCapacity(byName.count)
        for (name, release) in byName {
            apps[try AppID(name)] = release
        }
        self.apps = apps
    }

    /// Encodes the index body, `format` included. Sign the exact bytes produced: clients never
    /// re-encode them.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.format, forKey: .format)
        try container.encode(serial, forKey: .serial)
        try container.encode(published, forKey: .published)
        try container.encode(expires, forKey: .expires)
        var byName: [String: Release] = [:]
        for (app, release) in apps { byName[app.rawValue] = release }
        try container.encode(byName, forKey: .apps)
    }
}

private struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Strict parsing: a key this format does not define is an error, not something to skip,
/// so that a typo or a newer format is never silently misread.
func rejectUnknownKeys(in decoder: any Decoder, allowed: [String]) throws {
    let container = try decoder.container(keyedBy: AnyCodingKey.self)
    if let unknown = container.allKeys.first(where: { !allowed.contains($0.stringValue) }) {
        throw UpdateError(.indexMalformed, "unknown key \(String(reflecting: String(unknown.stringValue.prefix(64))))")
    }
}
