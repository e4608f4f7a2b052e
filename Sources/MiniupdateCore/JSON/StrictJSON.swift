/// Structural checks that `JSONDecoder` does not make, run before decoding any document
/// from outside (the index, client requests). Each caller says what a refusal means to
/// it: a malformed index, a parse error of a request.
///
/// `JSONDecoder` silently keeps the first of two equal keys, so `{"serial":9,"serial":1}`
/// would mean different things to different parsers; a signed document must have one
/// meaning. This scanner walks the document once, refusing duplicate keys (compared after
/// unescaping) and nesting deeper than ``maximumDepth``. It does not build values; the
/// decoder does that afterwards and reports every other syntax error.
package enum StrictJSON {
    package static let maximumDepth = 32

    /// Why a document was refused, and where.
    package struct Violation: Error, Sendable, Equatable, CustomStringConvertible {
        /// The byte offset at which the scan stopped.
        package var offset: Int
        package var reason: String

        package var description: String { "JSON at byte \(offset): \(reason)" }
    }

    package static func validate(_ bytes: some Collection<UInt8>, maximumDepth: Int = maximumDepth) throws(Violation) {
        var scanner = Scanner(bytes: Array(bytes), maximumDepth: maximumDepth)
        try scanner.run()
    }

    private struct Scanner {
        let bytes: [UInt8]
        let maximumDepth: Int
        var position = 0
        /// For each open container: the keys seen so far if it is an object, nil for an array.
        var stack: [Set<[UInt8]>?] = []

        init(bytes: [UInt8], maximumDepth: Int) {
            self.bytes = bytes
            self.maximumDepth = maximumDepth
        }

        func fail(_ why: String) -> Violation {
            Violation(offset: position, reason: why)
        }

        mutating func run() throws(Violation) {
            var expectingKey = false
            while position < bytes.count {
                let byte = bytes[position]
                switch byte {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    guard stack.count < maximumDepth else { throw fail("nesting deeper than \(maximumDepth)") }
                    stack.append(byte == UInt8(ascii: "{") ? [] : nil)
                    expectingKey = byte == UInt8(ascii: "{")
                    position += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    guard !stack.isEmpty else { throw fail("unbalanced bracket") }
                    stack.removeLast()
                    expectingKey = false
                    position += 1
                case UInt8(ascii: ","):
                    expectingKey = stack.last.map { $0 != nil } ?? false
                    position += 1
                case UInt8(ascii: "\""):
                    guard expectingKey, stack.last! != nil else {
                        try skipString()
                        continue
                    }
                    let key = try readString()
                    // Inserted in place: a copy of the set per key made a 10,000-key
                    // object quadratic.
                    guard stack[stack.count - 1]!.insert(key).inserted else {
                        throw fail("duplicate key \(String(reflecting: String(decoding: key.prefix(64), as: UTF8.self)))")
                    }
                    expectingKey = false
                default:
                    position += 1
                }
            }
        }

        /// Passes a string that is not a key, starting at its opening quote, checking its
        /// escapes as ``readString()`` does but keeping nothing.
        mutating func skipString() throws(Violation) {
            position += 1
            while position < bytes.count {
                let byte = bytes[position]
                position += 1
                if byte == UInt8(ascii: "\"") { return }
                guard byte == UInt8(ascii: "\\") else { continue }
                guard position < bytes.count else { break }
                let escaped = bytes[position]
                position += 1
                if escaped == UInt8(ascii: "u") { _ = try readHex4() }
            }
            throw fail("unterminated string")
        }

        /// Reads a string starting at its opening quote and returns its unescaped bytes.
        mutating func readString() throws(Violation) -> [UInt8] {
            position += 1
            var out: [UInt8] = []
            while position < bytes.count {
                let byte = bytes[position]
                position += 1
                if byte == UInt8(ascii: "\"") { return out }
                guard byte == UInt8(ascii: "\\") else {
                    out.append(byte)
                    continue
                }
                guard position < bytes.count else { break }
                let escaped = bytes[position]
                position += 1
                switch escaped {
                case UInt8(ascii: "u"):
                    var scalarValue = UInt32(try readHex4())
                    // A high surrogate followed by a low one is one scalar; anything else
                    // (a lone surrogate, a high one before a non-surrogate) stays as it is,
                    // and the next escape is read on its own.
                    if (0xD800..<0xDC00).contains(scalarValue), position + 6 <= bytes.count,
                       bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") {
                        let resume = position
                        position += 2
                        let low = UInt32(try readHex4())
                        if (0xDC00..<0xE000).contains(low) {
                            scalarValue = 0x10000 + ((scalarValue - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            position = resume
                        }
                    }
                    // Equal keys must compare equal however they are escaped: "a" == "\u0061".
                    if let scalar = Unicode.Scalar(scalarValue) {
                        out.append(contentsOf: Array(String(Character(scalar)).utf8))
                    } else {
                        out.append(contentsOf: [0xff, UInt8(truncatingIfNeeded: scalarValue >> 8), UInt8(truncatingIfNeeded: scalarValue)])
                    }
                case UInt8(ascii: "n"): out.append(0x0a)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0d)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0c)
                default: out.append(escaped)
                }
            }
            throw fail("unterminated string")
        }

        mutating func readHex4() throws(Violation) -> UInt16 {
            guard position + 4 <= bytes.count else { throw fail("bad \\u escape") }
            var unit: UInt16 = 0
            for byte in bytes[position..<position + 4] {
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw fail("bad \\u escape")
                }
                unit = unit << 4 | UInt16(digit)
            }
            position += 4
            return unit
        }
    }
}
