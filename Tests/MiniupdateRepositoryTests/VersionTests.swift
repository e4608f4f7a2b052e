import MiniupdateCore
import MiniupdateRepository
import Testing

@Suite struct VersionTests {
    @Test(arguments: ["0.0.0", "1.2.3", "10.20.30", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-0.3.7", "1.0.0-x.7.z.92", "1.0.0+20130313144700", "1.0.0-beta+exp.sha.5114f85", "1.0.0-x-y-z.--"])
    func parsesValidVersions(_ text: String) throws {
        #expect(try Version(text).text == text)
    }

    @Test(arguments: ["", "1", "1.2", "1.2.3.4", "01.2.3", "1.02.3", "1.2.03", "1.2.3-", "1.2.3-01", "1.2.3+", "1.2.3-a..b", "v1.2.3", "1.2.3-ä", "-1.2.3", "1.2.3 ", "../1.0.0", String(repeating: "1", count: 30) + ".0.0", "1.0.0-" + String(repeating: "a", count: 70)])
    func refusesInvalidVersions(_ text: String) {
        #expect(throws: UpdateError.self) { try Version(text) }
        do { _ = try Version(text) } catch let error as UpdateError {
            #expect(error.code == .invalidVersion)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func ordersAsSemanticVersioningSpecifies() throws {
        // The precedence example of semver.org, section 11, plus numeric cores.
        let ordered = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "1.10.0", "2.0.0"]
        let versions = try ordered.map(Version.init)
        for (lower, higher) in zip(versions, versions.dropFirst()) {
            #expect(lower < higher, "\(lower) < \(higher)")
            #expect(!(higher < lower))
        }
        #expect(versions.shuffled().sorted() == versions)
    }

    @Test func ignoresBuildMetadataWhenOrdering() throws {
        let a = try Version("1.0.0+a"), b = try Version("1.0.0+b")
        #expect(!(a < b) && !(b < a))
        #expect(a.hasSamePrecedence(as: b))
        #expect(a != b)
    }
}

@Suite struct AppIDTests {
    @Test(arguments: ["com.example.weather", "a", "0app", "com.example-app_1", String(repeating: "a", count: 128)])
    func acceptsValidIDs(_ text: String) throws {
        #expect(try AppID(text).rawValue == text)
    }

    @Test(arguments: ["", "Com.example", ".hidden", "-app", "_app", "com..example", "a/b", "..", "a..", "com.example weather", "com/../etc", String(repeating: "a", count: 129), "ä", "app\n"])
    func refusesInvalidIDs(_ text: String) {
        do {
            _ = try AppID(text)
            Issue.record("accepted \(String(reflecting: text))")
        } catch let error as UpdateError {
            #expect(error.code == .invalidAppID)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
