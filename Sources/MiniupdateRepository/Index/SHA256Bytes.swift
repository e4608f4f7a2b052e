/// A SHA-256 hash as its 32 bytes, held inline.
///
/// The index's text carries each release's hash as 64 hex digits; a decoded ``Release``
/// keeps the bytes instead, so that an index of 10,000 releases holds no 10,000 strings of
/// 64 characters (about 1 MiB of heap).
struct SHA256Bytes: Hashable, Sendable {
    // Big-endian: `word0` holds the first 8 bytes.
    private let word0, word1, word2, word3: UInt64

    /// Parses exactly 64 lower-case hex digits; nil for anything else.
    init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { return nil }
        func word(_ index: Int) -> UInt64? {
            var value: UInt64 = 0
            for digit in digits[(index * 16)..<(index * 16 + 16)] {
                switch digit {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): value = value << 4 | UInt64(digit - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): value = value << 4 | UInt64(digit - UInt8(ascii: "a") + 10)
                default: return nil
                }
            }
            return value
        }
        guard let word0 = word(0), let word1 = word(1), let word2 = word(2), let word3 = word(3) else { return nil }
        (self.word0, self.word1, self.word2, self.word3) = (word0, word1, word2, word3)
    }

    /// The 64 lower-case hex digits.
    var hex: String {
        withUnsafeBytes(of: (word0.bigEndian, word1.bigEndian, word2.bigEndian, word3.bigEndian)) { $0.hexString }
    }
}
