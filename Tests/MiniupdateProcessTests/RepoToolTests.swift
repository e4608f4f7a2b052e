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

    /// A key that did not sign the current index is refused (it exited 0 and made every
    /// client refuse the repository, before), unless --rotate-key, which says what the
    /// clients must trust.
    @Test func anotherKeyIsRefusedUnlessRotating() async throws {
        let directory = try TemporaryDirectory("repo-tool")
        defer { directory.remove() }
        let (first, second, repository, source) = (directory.sub("first.key"), directory.sub("second.key"), directory.sub("repo"), directory.sub("src"))
        try writeTree(["index.html": "1"], at: source)
        #expect(try await run(Self.tool, ["keygen", "--output", first, "-q"]) == (0, "", ""))
        let keygen = try await run(Self.tool, ["keygen", "--output", second, "--json"])
        let secondID = try #require((try JSONSerialization.jsonObject(with: Data(keygen.1.utf8)) as? [String: Any])?["keyID"] as? String)
        #expect(try await run(Self.tool, ["publish", repository, "--key", first, "--app", "com.example.a", "--version", "1.0.0", "--from", source]).0 == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: "\(repository)/index.signed"))

        var (status, _, err) = try await run(Self.tool, ["resign", repository, "--key", second])
        #expect(status == 1)
        #expect(err.contains("[key-mismatch]") && err.contains("--rotate-key"), "\(err)")
        (status, _, err) = try await run(Self.tool, ["publish", repository, "--key", second, "--app", "com.example.a", "--version", "1.1.0", "--from", source])
        #expect(status == 1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(repository)/index.signed")) == before)

        (status, _, err) = try await run(Self.tool, ["resign", repository, "--key", second, "--rotate-key"])
        #expect(status == 0, "\(err)")
        #expect(err.contains("every client's trusted-key must now be the public key of \(second) (\(second).pub, key id \(secondID))"), "\(err)")
        #expect(try await run(Self.tool, ["verify", repository, "--public-key", "\(second).pub"]).0 == 0)
    }

    @Test func jsonUsageErrorsAndDurations() async throws {
        let directory = try TemporaryDirectory("repo-tool")
        defer { directory.remove() }
        let (key, repository, source) = (directory.sub("k"), directory.sub("repo"), directory.sub("src"))
        try writeTree(["index.html": "1"], at: source)
        _ = try await run(Self.tool, ["keygen", "--output", key])
        // A bad version, app id or duration is a usage error, and nothing is created.
        for arguments in [["--version", "1.0"], ["--version", "1.0.0", "--app", "Bad App"], ["--version", "1.0.0", "--expires-in", "soon"]] {
            let all = ["publish", repository, "--key", key, "--from", source] + (arguments.contains("--app") ? [] : ["--app", "com.example.a"]) + arguments
            let (status, _, err) = try await run(Self.tool, all)
            #expect(status == 64, "\(arguments): \(err)")
        }
        #expect(!FileManager.default.fileExists(atPath: repository))
        // A bare number is seconds, as in miniupdate.conf; the help shows the default as written.
        var (status, out, err) = try await run(Self.tool, ["publish", repository, "--key", key, "--app", "com.example.a", "--version", "1.0.0", "--from", source, "--expires-in", "3600", "--json"])
        #expect(status == 0, "\(err)")
        let published = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], "\(out)")
        #expect((published["release"] as? [String: Any])?["version"] as? String == "1.0.0")
        #expect(try await run(Self.tool, ["publish", "--help"]).1.contains("(default: 7d)"))

        (status, out, _) = try await run(Self.tool, ["list", repository, "--json"])
        let listing = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], "\(out)")
        #expect((listing["apps"] as? [[String: Any]])?.first?["app"] as? String == "com.example.a")
        let expires = try #require(listing["expires"] as? Int)
        #expect(abs(expires - Int(RepositoryFixture.now) - 3600) < 60)
        (status, out, _) = try await run(Self.tool, ["list", repository])
        #expect(out.contains("expires ") && out.contains("(in 59 minutes)") || out.contains("(in 1 hour)"), "\(out)")

        (status, out, err) = try await run(Self.tool, ["verify", repository, "--public-key", "\(key).pub", "--json"])
        #expect(status == 0, "\(err)")
        #expect((try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])?["serial"] as? Int == 1)
        (status, out, err) = try await run(Self.tool, ["verify", directory.sub("absent"), "--public-key", "\(key).pub", "--json"])
        #expect(status == 1)
        #expect(err.isEmpty)
        #expect((try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])?["error"] != nil, "\(out)")
    }

    /// An expired index says so in words, and how to fix it.
    @Test func anExpiredIndexNamesTheFix() async throws {
        let repo = try RepositoryFixture()
        defer { repo.remove() }
        try repo.publish("com.example.a", "1.0.0")
        var index = try #require(try repo.publisher.currentIndex())
        index.serial += 1
        try repo.signAndWrite(index, expiresIn: .seconds(60), now: RepositoryFixture.now - 240)
        let keyFile = repo.directory.sub("trusted.pub")
        try repo.publicKey.fileContents.write(toFile: keyFile, atomically: true, encoding: .utf8)
        let (status, _, err) = try await run(Self.tool, ["verify", repo.repositoryPath, "--public-key", keyFile])
        #expect(status == 1)
        #expect(err.contains("[index-expired]") && err.contains("run miniupdate-repo resign \(repo.repositoryPath) --key KEY"), "\(err)")
        let listing = try await run(Self.tool, ["list", repo.repositoryPath]).1
        #expect(listing.contains("expired 3 minutes ago; run miniupdate-repo resign"), "\(listing)")
    }
}
