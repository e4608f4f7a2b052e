import Foundation
import MiniupdateCore
import MiniupdateRepository
import Testing

@Suite struct SignedIndexTests {
    let key = RepositorySigningKey()
    let now: Int64 = 1_800_000_000

    func index(serial: UInt64 = 5, expires: Int64? = nil, apps: [String: String] = ["com.example.weather": "1.4.0"]) throws -> RepositoryIndex {
        var result = RepositoryIndex(serial: serial, published: now - 10, expires: expires ?? now + 3600)
        for (app, version) in apps {
            result.apps[try AppID(app)] = try Release(
                version: try Version(version), package: "packages/\(app)/\(app)-\(version).tar.zst",
                sha256: String(repeating: "ab", count: 32), size: 100, installedSize: 50, files: 3
            )
        }
        return result
    }

    func signed(_ index: RepositoryIndex, by keys: [RepositorySigningKey]? = nil) throws -> [UInt8] {
        try SignedIndex(signing: index, with: keys ?? [key]).fileContents
    }

    func verifier(_ keys: [RepositoryPublicKey]? = nil, maximumSize: Int = 1 << 20) -> IndexVerifier {
        IndexVerifier(trustedKeys: keys ?? [key.publicKey], maximumSize: maximumSize)
    }

    @Test func acceptsAnIndexSignedByATrustedKey() throws {
        let original = try index()
        let verified = try verifier().verify(try signed(original), now: now, lastAccepted: nil)
        #expect(verified.index == original)
        #expect(verified.keyID == key.publicKey.keyID)
        #expect(verified.accepted.serial == 5)
    }

    @Test func acceptsWhenAnyOfSeveralSignaturesIsTrusted() throws {
        let other = RepositorySigningKey()
        let bytes = try signed(try index(), by: [other, key])
        #expect(try verifier().verify(bytes, now: now, lastAccepted: nil).keyID == key.publicKey.keyID)
    }

    @Test func refusesATamperedBody() throws {
        var bytes = try signed(try index())
        let position = bytes.lastIndex(of: UInt8(ascii: "4"))!  // "1.4.0" -> "1.5.0"
        bytes[position] = UInt8(ascii: "5")
        let error = #expect(throws: UpdateError.self) { try verifier().verify(bytes, now: now, lastAccepted: nil) }
        #expect(error?.code == .signatureInvalid)
    }

    @Test func refusesAValidSignatureByAnUntrustedKey() throws {
        let stranger = RepositorySigningKey()
        let bytes = try signed(try index(), by: [stranger])
        let error = #expect(throws: UpdateError.self) { try verifier().verify(bytes, now: now, lastAccepted: nil) }
        #expect(error?.code == .untrustedKey)
    }

    @Test func refusesALowerSerial() throws {
        let accepted = try verifier().verify(try signed(try index(serial: 7)), now: now, lastAccepted: nil).accepted
        let error = #expect(throws: UpdateError.self) {
            try verifier().verify(try signed(try index(serial: 6)), now: now, lastAccepted: accepted)
        }
        #expect(error?.code == .indexRollback)
    }

    @Test func refusesTheSameSerialWithOtherContentButAcceptsTheSameBytes() throws {
        let bytes = try signed(try index(serial: 7))
        let accepted = try verifier().verify(bytes, now: now, lastAccepted: nil).accepted
        #expect(try verifier().verify(bytes, now: now, lastAccepted: accepted).index.serial == 7)
        let error = #expect(throws: UpdateError.self) {
            try verifier().verify(try signed(try index(serial: 7, apps: ["com.example.weather": "9.0.0"])), now: now, lastAccepted: accepted)
        }
        #expect(error?.code == .indexRollback)
    }

    @Test func refusesAnExpiredIndex() throws {
        let error = #expect(throws: UpdateError.self) {
            try verifier().verify(try signed(try index(expires: now - 1)), now: now, lastAccepted: nil)
        }
        #expect(error?.code == .indexExpired)
    }

    @Test func refusesAnIndexOverTheSizeLimit() throws {
        let bytes = try signed(try index())
        let error = #expect(throws: UpdateError.self) {
            try verifier(maximumSize: bytes.count - 1).verify(bytes, now: now, lastAccepted: nil)
        }
        #expect(error?.code == .indexTooLarge)
    }

    /// Signs arbitrary body text, so malformed JSON reaches the parser with a valid signature.
    func signedBody(_ body: String) throws -> [UInt8] {
        var envelope = try SignedIndex(signing: try index(), with: [key])
        envelope.body = Array(body.utf8)
        let message = Array("\(SignedIndex.magic)\n".utf8) + envelope.body
        envelope.signatures = [.init(keyID: key.publicKey.keyID, bytes: try key.signature(for: message))]
        return envelope.fileContents
    }

    static let malformedBodies: [String] = [
        #"{"format":1,"serial":1,"published":0,"expires":1900000000,"apps":{}"#,  // truncated
        #"{"format":1,"serial":1,"serial":99,"published":0,"expires":1900000000,"apps":{}}"#,  // duplicate key
        #"{"format":1,"serial":1,"\u0073erial":99,"published":0,"expires":1900000000,"apps":{}}"#,  // duplicate, escaped
        #"{"format":1,"serial":1e400,"published":0,"expires":1900000000,"apps":{}}"#,  // huge number
        #"{"format":1,"serial":18446744073709551616,"published":0,"expires":1900000000,"apps":{}}"#,  // past UInt64
        #"{"format":1,"serial":-1,"published":0,"expires":1900000000,"apps":{}}"#,
        #"{"format":1,"serial":1,"published":0,"expires":1900000000,"apps":{},"extra":true}"#,  // unknown key
        #"{"format":2,"serial":1,"published":0,"expires":1900000000,"apps":{}}"#,  // unknown format
        #"{"format":1,"serial":1,"published":0,"expires":1900000000,"apps":{"Bad App":{}}}"#,
        #"{"format":1,"serial":1,"published":0,"expires":1900000000,"apps":{"a":{"version":"1.0.0","package":"../etc/passwd","sha256":"\#(String(repeating: "0", count: 64))","size":1,"installedSize":1,"files":1}}}"#,
        #"{"format":1,"serial":1,"published":0,"expires":1900000000,"apps":{"a":{"version":"1.0.0","package":"p","sha256":"xyz","size":1,"installedSize":1,"files":1}}}"#,
        #"{"format":1,"serial":1,"published":0,"expires":1900000000,"apps":{"a":{"version":"1.0.0","package":"p","sha256":"\#(String(repeating: "A", count: 64))","size":1,"installedSize":1,"files":1}}}"#,  // upper case
        #"{"format":1,"serial":1,"published":0,"expires":1900000000,"apps":{"a":{"version":"1.0.0","package":"p","sha256":"\#(String(repeating: "0", count: 63))","size":1,"installedSize":1,"files":1}}}"#,
        #"{"format":1,"serial":1,"published":0,"expires":1900000000,"apps":{"a":{"version":"1.0.0","package":"p","sha256":"\#(String(repeating: "0", count: 63))g","size":1,"installedSize":1,"files":1}}}"#,
        #"{"format":1,"serial":1,"published":0,"expires":1900000000,"apps":{"a":{"version":"1.0.0","package":"p","sha256":"\#(String(repeating: "0", count: 64))","size":-5,"installedSize":1,"files":1}}}"#,
        #"{"format":1,"serial":1,"published":0,"expires":1900000000,"apps":{},"\ud800\u0041":1}"#,  // lone surrogate (crashed the scanner)
        #"{"format":1,"serial":1,"published":0,"expires":1900000000,"apps":{},"\u+0ff":1}"#,  // not four hex digits
        String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000),  // deep nesting
        "",
    ]

    @Test(arguments: malformedBodies)
    func refusesMalformedIndexes(_ body: String) throws {
        let error = #expect(throws: UpdateError.self) { try verifier().verify(try signedBody(body), now: now, lastAccepted: nil) }
        #expect(error?.code == .indexMalformed)
    }

    /// A release keeps its hash as 32 bytes, and gives back, encodes and decodes exactly the
    /// hex it was made from.
    @Test func aReleaseHashRoundTripsThroughItsBytes() throws {
        let hex = (0..<32).map { String(format: "%02x", ($0 * 37 + 11) & 0xff) }.joined()
        let release = try Release(version: try Version("1.0.0"), package: "p", sha256: hex, size: 1, installedSize: 0, files: 0)
        #expect(release.sha256 == hex)
        let decoded = try JSONDecoder().decode(Release.self, from: JSONEncoder().encode(release))
        #expect(decoded == release)
        #expect(decoded.sha256 == hex)
        for bad in [hex.uppercased(), String(hex.dropLast()), String(hex.dropLast()) + "g", hex + "0", ""] {
            let error = #expect(throws: UpdateError.self) {
                try Release(version: try Version("1.0.0"), package: "p", sha256: bad, size: 1, installedSize: 0, files: 0)
            }
            #expect(error?.code == .indexMalformed)
        }
    }

    /// The duplicate-key scan of an index with 10,000 apps (it was quadratic in the keys of
    /// one object), with escapes in keys and values.
    @Test func findsADuplicateAmongTenThousandKeys() throws {
        var body = "{" + (0..<10_000).map { #""app\#($0)":{"v":"\u0041\n"}"# }.joined(separator: ",")
        try StrictJSON.validate(Array((body + "}").utf8))
        body += #","app\u0030":{}}"#
        let error = #expect(throws: StrictJSON.Violation.self) { try StrictJSON.validate(Array(body.utf8)) }
        #expect(error?.reason == #"duplicate key "app0""#)
        let badValueEscape = #"{"a":"\u12x4"}"#
        #expect(throws: StrictJSON.Violation.self) { try StrictJSON.validate(Array(badValueEscape.utf8)) }
    }

    @Test(arguments: [
        "", "miniupdate-index-v1\n\n{}", "other-magic\nsignature ed25519 0011223344556677 AAAA\n\n{}",
        "miniupdate-index-v1\nsignature ed25519 0011 AAAA\n\n{}", "miniupdate-index-v1\nsignature rsa 0011223344556677 AAAA\n\n{}",
        "miniupdate-index-v1\nsignature ed25519 0011223344556677 AAAA\n{}",
    ])
    func refusesMalformedEnvelopes(_ text: String) {
        let error = #expect(throws: UpdateError.self) { try verifier().verify(Array(text.utf8), now: now, lastAccepted: nil) }
        #expect(error?.code == .indexMalformed)
    }

    @Test func keyFilesRoundTrip() throws {
        let reread = try RepositorySigningKey(fileContents: Array(key.fileContents.utf8), source: "key")
        #expect(reread.publicKey == key.publicKey)
        let publicKey = try RepositoryPublicKey(fileContents: Array(key.publicKey.fileContents.utf8), source: "key.pub")
        #expect(publicKey == key.publicKey)
        #expect(throws: UpdateError.self) { try RepositoryPublicKey(fileContents: Array(key.fileContents.utf8), source: "swapped") }
    }
}
