import MiniupdateCore
@testable import MiniupdateEngine
import MiniupdateRepository
import Testing

@Suite struct IndexSharingTests {
    /// The index the engine keeps shares each app id's string with the table of installed
    /// apps, and keeps the ids only it has.
    @Test func anIndexSharesTheIdsOfTheAppTable() throws {
        func id(_ name: String) throws -> AppID { try AppID(String(name.utf8.map { Character(UnicodeScalar($0)) })) }
        func storage(_ id: AppID) -> Int {
            var text = id.rawValue
            return text.withUTF8 { Int(bitPattern: $0.baseAddress) }
        }
        let installed = try id("com.example.installed-long-name")
        var index = RepositoryIndex(serial: 1, published: 0, expires: 1)
        let release = try Release(version: Version("1.0.0"), package: "p", sha256: String(repeating: "0", count: 64), size: 1, installedSize: 0, files: 0)
        let copy = try id("com.example.installed-long-name")
        let onlyInIndex = try id("com.example.only-in-the-index")
        index.apps = [copy: release, onlyInIndex: release]
        #expect(storage(copy) != storage(installed))

        let shared = index.sharingIDs(with: [installed: 1])
        #expect(shared.apps.count == 2)
        #expect(shared.apps[installed] == release)
        let key = try #require(shared.apps.keys.first { $0 == installed })
        #expect(storage(key) == storage(installed))
        let other = try #require(shared.apps.keys.first { $0 == onlyInIndex })
        #expect(storage(other) == storage(onlyInIndex))
    }
}
