import Crypto
import FoundationEssentials
import MiniupdateCore

/// Decides whether a client accepts a signed index, applying every rule in one place so
/// that `miniupdate-repo verify` and the engine cannot disagree.
///
/// The checks, in order, each with its own error code:
/// 1. size within ``maximumSize`` (`index-too-large`);
/// 2. envelope shape and JSON (`index-malformed`);
/// 3. a signature by a trusted key (`untrusted-key`) that is valid
///    (`signature-invalid`);
/// 4. a serial not below the last accepted one, and not equal to it with other content
///    (`index-rollback`);
/// 5. not expired (`index-expired`).
public struct IndexVerifier: Sendable {
    /// The keys whose signatures are accepted (`trusted-key`); one valid signature by any of
    /// them is enough.
    public var trustedKeys: [RepositoryPublicKey]
    /// The largest index accepted, in bytes (`max-index-size`).
    public var maximumSize: Int

    /// A verifier trusting `trustedKeys`, accepting indexes of up to `maximumSize` bytes
    /// (64 MiB by default).
    public init(trustedKeys: [RepositoryPublicKey], maximumSize: Int = 64 << 20) {
        self.trustedKeys = trustedKeys
        self.maximumSize = maximumSize
    }

    /// What the client remembers of the last index it accepted.
    public struct Accepted: Sendable, Equatable, Codable {
        /// The serial of that index: a later index may not have a lower one.
        public var serial: UInt64
        /// SHA-256 of the body, to tell a re-fetch of the same index from a replay.
        public var bodySHA256: String

        /// A record of an accepted index, as stored in the client's state directory.
        public init(serial: UInt64, bodySHA256: String) {
            self.serial = serial
            self.bodySHA256 = bodySHA256
        }
    }

    /// An index that passed every check, and what the client must remember of it.
    public struct Verified: Sendable {
        /// The decoded index.
        public var index: RepositoryIndex
        /// What to store, and pass as `lastAccepted` to the next
        /// ``IndexVerifier/verify(_:now:lastAccepted:)``, once the index is acted on.
        public var accepted: Accepted
        /// The id of the key whose signature was accepted.
        public var keyID: String
    }

    /// Verifies `bytes` as a client would at time `now` (seconds since the epoch), given the
    /// last index it accepted, if any.
    public func verify(_ bytes: [UInt8], now: Int64, lastAccepted: Accepted?) throws -> Verified {
        guard bytes.count <= maximumSize else {
            throw UpdateError(.indexTooLarge, "index is \(bytes.count) bytes, over the limit of \(maximumSize)")
        }
        let envelope = try SignedIndex(parsing: bytes)
        let message = SignedIndex.signedMessage(envelope.body)
        var acceptedKey: String?
        var invalidFromTrusted: String?
        for signature in envelope.signatures {
            guard let key = trustedKeys.first(where: { $0.keyID == signature.keyID }) else { continue }
            if key.isValidSignature(signature.bytes, for: message) {
                acceptedKey = key.keyID
                break
            }
            invalidFromTrusted = key.keyID
        }
        guard let keyID = acceptedKey else {
            if let invalidFromTrusted {
                throw UpdateError(.signatureInvalid, "the index signature by key \(invalidFromTrusted) does not verify")
            }
            let named = envelope.signatures.map(\.keyID).joined(separator: ", ")
            throw UpdateError(.untrustedKey, "the index is signed by \(named), none of which is trusted")
        }
        let index = try Self.decode(envelope.body)
        let digest = SHA256.hash(data: envelope.body).hexString
        if let last = lastAccepted {
            if index.serial < last.serial {
                throw UpdateError(.indexRollback, "index serial \(index.serial) is lower than \(last.serial), already accepted")
            }
            if index.serial == last.serial, digest != last.bodySHA256 {
                throw UpdateError(.indexRollback, "index serial \(index.serial) was already accepted with other content")
            }
        }
        guard index.expires > now else {
            throw UpdateError(.indexExpired, "index serial \(index.serial) expired at \(index.expires) (now \(now))")
        }
        return Verified(index: index, accepted: Accepted(serial: index.serial, bodySHA256: digest), keyID: keyID)
    }

    static func decode(_ body: [UInt8]) throws -> RepositoryIndex {
        do {
            try StrictJSON.validate(body)
            return try JSONDecoder().decode(RepositoryIndex.self, from: Data(body))
        } catch let violation as StrictJSON.Violation {
            throw UpdateError(.indexMalformed, violation.description)
        } catch {
            throw UpdateError(.indexMalformed, "index JSON: \(describeDecodingError(error))")
        }
    }
}

func describeDecodingError(_ error: any Error) -> String {
    guard let decoding = error as? DecodingError else { return "\(error)" }
    switch decoding {
    case .dataCorrupted(let context), .keyNotFound(_, let context), .typeMismatch(_, let context), .valueNotFound(_, let context):
        let path = context.codingPath.map(\.stringValue).joined(separator: ".")
        if case .keyNotFound(let key, _) = decoding {
            return "missing \(path.isEmpty ? "" : path + ".")\(key.stringValue)"
        }
        return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
    @unknown default:
        return "\(error)"
    }
}
