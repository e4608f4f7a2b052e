import Crypto
import FoundationEssentials
import MiniupdateCore

/// The signed envelope around a ``RepositoryIndex``: the file `index.signed` at the root
/// of every repository.
///
/// ```
/// miniupdate-index-v1
/// signature ed25519 <key id> <base64 signature>
/// <blank line>
/// <index JSON, exactly the bytes that were signed>
/// ```
///
/// Each signature is Ed25519 over `"miniupdate-index-v1\n"` followed by the body bytes, so
/// a signature can never be replayed as a signature of some other kind of document.
public struct SignedIndex: Sendable {
    /// The envelope's file name at the root of a repository.
    public static let fileName = "index.signed"
    /// The header's first line, also the prefix of every signed message: names the format
    /// and its version.
    public static let magic = "miniupdate-index-v1"
    /// The most signature lines a client reads (room for key rotation, no more).
    public static let maximumSignatures = 8

    /// One `signature ed25519 <key id> <signature>` line of the header.
    public struct Signature: Sendable, Equatable {
        /// The signing key's ``RepositoryPublicKey/keyID``: 16 lower-case hex digits.
        public var keyID: String
        /// The 64-byte Ed25519 signature of ``SignedIndex/magic``, a newline, and the body.
        public var bytes: [UInt8]

        /// A signature line with these values, unchecked.
        public init(keyID: String, bytes: [UInt8]) {
            self.keyID = keyID
            self.bytes = bytes
        }
    }

    /// The header's signatures, in file order: 1 to ``maximumSignatures`` of them in a parsed
    /// envelope.
    public var signatures: [Signature]
    /// The exact index bytes that were signed.
    public var body: [UInt8]

    /// Encodes and signs `index` with each of `keys`.
    public init(signing index: RepositoryIndex, with keys: [RepositorySigningKey]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            body = Array(try encoder.encode(index))
        } catch {
            throw UpdateError(.indexMalformed, "cannot encode index: \(error)")
        }
        body.append(UInt8(ascii: "\n"))
        let message = Self.signedMessage(body)
        signatures = []
        for key in keys {
            signatures.append(Signature(keyID: key.publicKey.keyID, bytes: try key.signature(for: message)))
        }
    }

    /// Parses the envelope. This checks only its shape; ``IndexVerifier`` decides trust.
    public init(parsing bytes: [UInt8]) throws {
        func malformed(_ why: String) -> UpdateError { UpdateError(.indexMalformed, "signed index: \(why)") }
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var bodyStart: Int?
        // The header is a handful of short lines; never scan a hostile body for newlines.
        let headerLimit = min(bytes.count, 4096)
        var position = 0
        while position < headerLimit {
            if bytes[position] == UInt8(ascii: "\n") {
                let line = bytes[start..<position]
                if line.isEmpty {
                    bodyStart = position + 1
                    break
                }
                lines.append(line)
                start = position + 1
            }
            position += 1
        }
        guard let bodyStart else { throw malformed("no blank line ends the header within 4096 bytes") }
        guard let first = lines.first, String(decoding: first, as: UTF8.self) == Self.magic else {
            throw malformed("the first line is not \(Self.magic)")
        }
        var signatures: [Signature] = []
        for line in lines.dropFirst() {
            let fields = String(decoding: line, as: UTF8.self).split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 4, fields[0] == "signature", fields[1] == "ed25519" else {
                throw malformed("expected 'signature ed25519 <key id> <signature>'")
            }
            guard fields[2].utf8.count == 16, fields[2].utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }) else {
                throw malformed("a key id is 16 lower-case hex digits")
            }
            guard let signature = Data(base64Encoded: String(fields[3])), signature.count == 64 else {
                throw malformed("an Ed25519 signature is 64 bytes of base64")
            }
            signatures.append(Signature(keyID: String(fields[2]), bytes: Array(signature)))
        }
        guard !signatures.isEmpty else { throw malformed("no signature") }
        guard signatures.count <= Self.maximumSignatures else { throw malformed("more than \(Self.maximumSignatures) signatures") }
        self.signatures = signatures
        self.body = Array(bytes[bodyStart...])
    }

    /// The file's bytes.
    public var fileContents: [UInt8] {
        var out = Array("\(Self.magic)\n".utf8)
        for signature in signatures {
            out += Array("signature ed25519 \(signature.keyID) \(Data(signature.bytes).base64EncodedString())\n".utf8)
        }
        out.append(UInt8(ascii: "\n"))
        out += body
        return out
    }

    static func signedMessage(_ body: [UInt8]) -> [UInt8] {
        Array("\(magic)\n".utf8) + body
    }
}
