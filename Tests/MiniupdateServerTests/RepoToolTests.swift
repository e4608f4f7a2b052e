import Foundation
import MiniupdateRepository
import MiniupdateTestSupport
import Testing

/// The real `miniupdate-repo` binary, as a publisher runs it.
@Suite struct RepoToolTests {
    static var tool: String { "\(DaemonProcess.binaries)/miniupdate-repo" }

    /// Makes a key and a tree of `files` files, and publishes the tree as 1.0.0.
    func publish(files: Int) async throws -> (status: Int32, out: String, err: String, listing: String) {
        let directory = try TemporaryDirectory("repo-tool")
        defer { directory.remove() }
        let (key, repository, source) = (directory.sub("publisher.key"), directory.sub("repo"), directory.sub("src"))
        for index in 0..<files {
            let folder = "\(source)/d\(index / 1000)"
            if index % 1000 == 0 { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            #expect(FileManager.default.createFile(atPath: "\(folder)/f\(index)", contents: Data([1])))
        }
        #expect(try await run(Self.tool, ["keygen", "--output", key]).0 == 0)
        let (status, out, err) = try await run(Self.tool, ["publish", repository, "--key", key, "--app", "com.example.many", "--version", "1.0.0", "--from", source])
        let listing = try await run(Self.tool, ["list", repository]).1
        return (status, out, err, listing)
    }

    @Test func publishesWithoutAWarningWhatDefaultClientsAccept() async throws {
        let result = try await publish(files: 10)
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.hasPrefix("published com.example.many 1.0.0"))
        #expect(result.err.isEmpty)
    }

    /// Clients refuse such a release before downloading it; the publisher hears so at once.
    @Test func warnsWhenDefaultClientsWouldRefuseTheRelease() async throws {
        let result = try await publish(files: 20_000)
        #expect(result.status == 0, "\(result.err)")
        #expect(result.listing.contains("com.example.many"))
        #expect(result.err.contains("miniupdate-repo: warning: com.example.many 1.0.0 has 20020 entries, over the limit of 20000"), "\(result.err)")
        #expect(result.err.contains("[archive-too-many-files]"))
    }
}
