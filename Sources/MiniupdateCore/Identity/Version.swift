/// A semantic version, as defined by Semantic Versioning 2.0.0.
///
/// Ordering follows the specification's precedence rules: major, minor and patch compare
/// numerically; a version with a pre-release is lower than the same version without one;
/// pre-release identifiers compare one by one, numeric ones numerically and below
/// alphanumeric ones, which compare in ASCII order; a shorter list of identifiers is
/// lower when all before it are equal. Build metadata (`+…`) is ignored when ordering,
/// so `1.0.0+a` and `1.0.0+b` have the same precedence and neither is newer.
///
/// Versions become directory names, so the text is limited to 64 ASCII characters.
public struct Version: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    /// One dot-separated identifier of a version's pre-release part (after `-`), such as
    /// `rc` or `1` in `1.0.0-rc.1`.
    public enum PrereleaseIdentifier: Sendable, Hashable {
        /// An identifier of digits only, compared numerically and below any alphanumeric one.
        case numeric(UInt64)
        /// An identifier with at least one letter or hyphen, compared in ASCII order.
        case alphanumeric(String)
    }

    /// The parsed parts, behind one reference: a version is one word wherever it is kept
    /// (each app's record holds several, mostly absent; a 10,000-app daemon held 5 MiB of
    /// them inline), and copying one is a single retain.
    private final class Parts: Sendable {
        let major: UInt64
        let minor: UInt64
        let patch: UInt64
        let prerelease: [PrereleaseIdentifier]
        let build: [String]
        let text: String

        init(major: UInt64, minor: UInt64, patch: UInt64, prerelease: [PrereleaseIdentifier], build: [String], text: String) {
            self.major = major
            self.minor = minor
            self.patch = patch
            self.prerelease = prerelease
            self.build = build
            self.text = text
        }
    }

    private let parts: Parts

    /// The `MAJOR` number.
    public var major: UInt64 { parts.major }
    /// The `MINOR` number.
    public var minor: UInt64 { parts.minor }
    /// The `PATCH` number.
    public var patch: UInt64 { parts.patch }
    /// The pre-release identifiers, in order; empty for a release.
    public var prerelease: [PrereleaseIdentifier] { parts.prerelease }
    /// The build metadata identifiers (after `+`), in order; empty when there are none.
    /// They play no part in ordering.
    public var build: [String] { parts.build }
    /// The exact text this version was parsed from.
    public var text: String { parts.text }

    /// The longest version text accepted, in bytes (versions become directory names).
    public static let maximumLength = 64

    /// Parses `text` as a semantic version of at most ``maximumLength`` characters, throwing
    /// ``UpdateError/Code/invalidVersion`` when it is not one.
    public init(_ text: String) throws {
        func invalid(_ why: String) -> UpdateError {
            UpdateError(.invalidVersion, "invalid version \(String(reflecting: String(text.prefix(80)))): \(why)")
        }
        guard !text.isEmpty, text.utf8.count <= Self.maximumLength else {
            throw invalid("expected 1 to \(Self.maximumLength) characters")
        }
        var rest = Substring(text)
        var build: [String] = []
        if let plus = rest.firstIndex(of: "+") {
            build = rest[rest.index(after: plus)...].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            rest = rest[..<plus]
            guard build.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(Self.isIdentifierByte) }) else {
                throw invalid("build metadata must be dot-separated [0-9A-Za-z-] identifiers")
            }
        }
        var prerelease: [PrereleaseIdentifier] = []
        if let dash = rest.firstIndex(of: "-") {
            let identifiers = rest[rest.index(after: dash)...].split(separator: ".", omittingEmptySubsequences: false)
            rest = rest[..<dash]
            for identifier in identifiers {
                guard !identifier.isEmpty, identifier.utf8.allSatisfy(Self.isIdentifierByte) else {
                    throw invalid("pre-release must be dot-separated [0-9A-Za-z-] identifiers")
                }
                if identifier.utf8.allSatisfy(Self.isDigit) {
                    guard let number = Self.number(identifier) else {
                        throw invalid("numeric pre-release identifiers have no leading zeros and fit in 64 bits")
                    }
                    prerelease.append(.numeric(number))
                } else {
                    prerelease.append(.alphanumeric(String(identifier)))
                }
            }
        }
        let core = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard core.count == 3 else { throw invalid("expected MAJOR.MINOR.PATCH") }
        guard let major = Self.number(core[0]), let minor = Self.number(core[1]), let patch = Self.number(core[2]) else {
            throw invalid("MAJOR, MINOR and PATCH are numbers without leading zeros")
        }
        parts = Parts(major: major, minor: minor, patch: patch, prerelease: prerelease, build: build, text: text)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    private static func isIdentifierByte(_ byte: UInt8) -> Bool {
        isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || byte == UInt8(ascii: "-")
    }

    private static func number(_ text: Substring) -> UInt64? {
        guard !text.isEmpty, text.utf8.allSatisfy(isDigit), text == "0" || text.first != "0" else { return nil }
        return UInt64(text)
    }

    /// The exact text this version was parsed from.
    public var description: String { text }

    /// Equality is textual (`1.0.0+a` ≠ `1.0.0+b`); use ``hasSamePrecedence(as:)`` to ignore build metadata.
    public static func == (lhs: Version, rhs: Version) -> Bool { lhs.parts === rhs.parts || lhs.text == rhs.text }

    /// Hashes the text, consistent with `==`.
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }

    /// Whether neither version is newer than the other: equal apart from build metadata.
    public func hasSamePrecedence(as other: Version) -> Bool { !(self < other) && !(other < self) }

    /// Whether `lhs` has lower precedence than `rhs`, by the rules of ``Version``: true when
    /// `rhs` would be an update of `lhs`.
    public static func < (lhs: Version, rhs: Version) -> Bool {
        let (lhs, rhs) = (lhs.parts, rhs.parts)
        if lhs.major != rhs.major { return lhs.major < rhs.major }
        if lhs.minor != rhs.minor { return lhs.minor < rhs.minor }
        if lhs.patch != rhs.patch { return lhs.patch < rhs.patch }
        switch (lhs.prerelease.isEmpty, rhs.prerelease.isEmpty) {
        case (true, true), (true, false): return false
        case (false, true): return true
        case (false, false): break
        }
        for (left, right) in zip(lhs.prerelease, rhs.prerelease) where left != right {
            switch (left, right) {
            case let (.numeric(a), .numeric(b)): return a < b
            case (.numeric, .alphanumeric): return true
            case (.alphanumeric, .numeric): return false
            case let (.alphanumeric(a), .alphanumeric(b)): return Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8))
            }
        }
        return lhs.prerelease.count < rhs.prerelease.count
    }

    /// Decodes a version from a string, parsing it as ``init(_:)`` does: throws
    /// ``UpdateError/Code/invalidVersion`` when it is not a valid version.
    public init(from decoder: any Decoder) throws {
        let string = try decoder.singleValueContainer().decode(String.self)
        try self.init(string)
    }

    /// Encodes the version as its exact text.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}
