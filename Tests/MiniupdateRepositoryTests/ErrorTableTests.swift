import Foundation
import MiniupdateCore
import Testing

/// `UpdateError.Code.all` is the one table of codes; the documentation repeats it for
/// people, and must not fall out of step.
@Suite struct ErrorTableTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func read(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    @Test func numbersAndNamesAreUnique() {
        let all = UpdateError.Code.all
        #expect(Set(all.map(\.rawValue)).count == all.count)
        #expect(Set(all.map(\.number)).count == all.count)
        #expect(all.map(\.number) == all.map(\.number).sorted())
        #expect(all.allSatisfy { UpdateError.Code(rawValue: $0.rawValue).number == $0.number && $0.isKnown })
    }

    @Test func errorsMarkdownListsEveryCodeWithItsNumber() throws {
        let text = try Self.read("docs/errors.md")
        var documented: [String: Int] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("| ") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 2, let number = Int(cells[0]), cells[1].hasPrefix("`"), number >= 1000 else { continue }
            documented[cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))] = number
        }
        let table = Dictionary(uniqueKeysWithValues: UpdateError.Code.all.map { ($0.rawValue, $0.number) })
        #expect(documented == table)
    }

    @Test func protocolMarkdownNamesEveryCode() throws {
        let text = try Self.read("docs/protocol.md")
        for code in UpdateError.Code.all {
            #expect(text.contains("`\(code.rawValue)`"), "docs/protocol.md does not name \(code.rawValue)")
        }
    }
}
