import Crypto
import FoundationEssentials
import MiniupdateCore

/// The public half of a repository signing key, as clients trust it.
///
/// On disk it is one line: `miniupdate-public-key-v1 <base64 of the 32-byte Ed25519 key>`.
public struct RepositoryPublicKey: Sendable, Hashable {
    /// The first word of a public key file (`KEY.pub`): its format and version.
    public static let filePrefix = "miniupdate-public-key-v1"

    /// The raw 32-byte Ed25519 public key.
    public let rawRepresentation: [UInt8]
    /// The first 8 bytes of the SHA-256 of the raw key, in hex: how signatures name their key.
    public let keyID: String

    /// Wraps a raw Ed25519 public key, throwing `invalid-argument` unless
    /// it is 32 bytes that Ed25519 accepts.
    public init(rawRepresentation: some Collection<UInt8>) throws {
        let bytes = Array(rawRepresentation)
        guard bytes.count == 32, (try? Curve25519.Signing.PublicKey(rawRepresentation: bytes)) != nil else {
            throw UpdateError(.invalidArgument, "an Ed25519 public key is 32 bytes")
        }
        self.rawRepresentation = bytes
        self.keyID = Self.keyID(of: bytes)
    }

    static func keyID(of raw: [UInt8]) -> String {
        SHA256.hash(data: raw).prefix(8).hexString
    }

    /// Parses the key file format; `source` names the file in errors.
    public init(fileContents: some Collection<UInt8>, source: String) throws {
        let raw = try decodeKeyFile(fileContents, prefix: Self.filePrefix, source: source)
        try self.init(rawRepresentation: raw)
    }

    /// Reads a public key file such as `KEY.pub`: `io` when it cannot be
    /// read or is over 4096 bytes, `invalid-argument` when it is not one
    /// line `miniupdate-public-key-v1 <base64 key>`.
    public init(contentsOfFile path: String) throws {
        try self.init(fileContents: FileSystem.readFile(path, limit: 4096), source: path)
    }

    /// The key file's text: `miniupdate-public-key-v1 <base64 key>` and a newline.
    public var fileContents: String {
        "\(Self.filePrefix) \(Data(rawRepresentation).base64EncodedString())\n"
    }

    /// Whether `signature` is this key's Ed25519 signature of `message`.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: rawRepresentation) else { return false }
        return key.isValidSignature(signature, for: message)
    }
}

/// A publisher's Ed25519 private key.
///
/// On disk it is one line, `miniupdate-secret-key-v1 <base64 of the 32-byte seed>`, in a
/// file of mode 0600.
public struct RepositorySigningKey: Sendable {
    /// The first word of a private key file: its format and version.
    public static let filePrefix = "miniupdate-secret-key-v1"

    // Stored as the raw seed: swift-crypto's key type is not Sendable.
    private let seed: [UInt8]
    private var key: Curve25519.Signing.PrivateKey {
        // The seed was validated when this value was made.
        try! Curve25519.Signing.PrivateKey(rawRepresentation: seed)
    }

    /// A new random key, from the system's secure random source.
    public init() { seed = Array(Curve25519.Signing.PrivateKey().rawRepresentation) }

    /// Parses the private key file format; `source` names the file in errors. Throws
    /// `invalid-argument` unless it is one line
    /// `miniupdate-secret-key-v1 <base64 of a 32-byte seed>`.
    public init(fileContents: some Collection<UInt8>, source: String) throws {
        let raw = try decodeKeyFile(fileContents, prefix: Self.filePrefix, source: source)
        guard (try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)) != nil else {
            throw UpdateError(.invalidArgument, "\(source): not an Ed25519 private key")
        }
        self.seed = raw
    }

    /// Reads a private key file: `io` when it cannot be read or is over
    /// 4096 bytes, `invalid-argument` when it is not a private key file.
    /// A public key file (`KEY.pub`) is refused: its prefix differs.
    public init(contentsOfFile path: String) throws {
        try self.init(fileContents: FileSystem.readFile(path, limit: 4096), source: path)
    }

    /// The public half, which clients trust and which names this key in signatures
    /// (its ``RepositoryPublicKey/keyID``).
    public var publicKey: RepositoryPublicKey {
        // A valid private key always has a valid 32-byte public key.
        try! RepositoryPublicKey(rawRepresentation: Array(key.publicKey.rawRepresentation))
    }

    /// The key file's text: `miniupdate-secret-key-v1 <base64 seed>` and a newline. Secret:
    /// write it only to a file of mode 0600 (``write(toFile:replacing:)`` does).
    public var fileContents: String {
        "\(Self.filePrefix) \(key.rawRepresentation.base64EncodedString())\n"
    }

    /// The 64-byte Ed25519 signature of `message`; `io` if signing fails.
    public func signature(for message: [UInt8]) throws -> [UInt8] {
        do {
            return Array(try key.signature(for: message))
        } catch {
            throw UpdateError(.io, "signing failed: \(error)")
        }
    }
}

private func decodeKeyFile(_ contents: some Collection<UInt8>, prefix: String, source: String) throws -> [UInt8] {
    var text = String(decoding: contents, as: UTF8.self)
    if text.hasSuffix("\n") { text.removeLast() }
    let parts = text.split(separator: " ", omittingEmptySubsequences: false)
    guard parts.count == 2, parts[0] == prefix, let raw = Data(base64Encoded: String(parts[1])), raw.count == 32 else {
        throw UpdateError(.invalidArgument, "\(source): expected one line '\(prefix) <base64 key>'")
    }
    return Array(raw)
}

extension Sequence<UInt8> {
    /// Lower-case hexadecimal.
    package var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
