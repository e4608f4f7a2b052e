import Foundation
import MiniupdateCore
import MiniupdateRepository
import MiniupdateTestSupport
import Testing

@Suite struct PackageTests {
    @Test func buildsAndExtractsATreeFaithfully() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let source = temp.sub("src")
        try writeTree(["index.html": "<h1>hi</h1>\n", "js/app.js": "run()\n", "empty.txt": ""], at: source)
        try FileManager.default.createDirectory(atPath: source + "/assets/img", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: source + "/js/home.html", withDestinationPath: "../index.html")
        chmod(source + "/js/app.js", 0o755)

        let digest = try PackageBuilder.build(from: source, to: temp.sub("p.tar.zst"))
        #expect(digest.files == 7)  // index.html, js, js/app.js, js/home.html, empty.txt, assets, assets/img
        #expect(digest.installedSize == 18)
        // Deterministic: the same tree gives the same bytes.
        #expect(try PackageBuilder.build(from: source, to: temp.sub("q.tar.zst")) == digest)

        let summary = try PackageExtractor.extract(archiveAt: temp.sub("p.tar.zst"), into: temp.sub("out"), limits: ExtractionLimits())
        #expect(summary.entries == 7)
        #expect(readText(temp.sub("out/index.html")) == "<h1>hi</h1>\n")
        #expect(readText(temp.sub("out/js/home.html")) == "<h1>hi</h1>\n")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: temp.sub("out/js/home.html")) == "../index.html")
        #expect(FileManager.default.isExecutableFile(atPath: temp.sub("out/js/app.js")))
        #expect(FileManager.default.fileExists(atPath: temp.sub("out/assets/img")))
    }

    @Test func refusesToPackWhatClientsWouldRefuse() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        try writeTree(["a.txt": "a"], at: temp.sub("escape"))
        try FileManager.default.createSymbolicLink(atPath: temp.sub("escape/out"), withDestinationPath: "../../etc/passwd")
        let escape = #expect(throws: UpdateError.self) { try PackageBuilder.build(from: temp.sub("escape"), to: temp.sub("1.tar.zst")) }
        #expect(escape?.code == .archiveLinkEscape)

        try writeTree(["a.txt": "a"], at: temp.sub("fifo"))
        #expect(mkfifo(temp.sub("fifo/pipe"), 0o644) == 0)
        let fifo = #expect(throws: UpdateError.self) { try PackageBuilder.build(from: temp.sub("fifo"), to: temp.sub("2.tar.zst")) }
        #expect(fifo?.code == .archiveUnsupportedEntry)
    }

    struct HostileCase: Sendable, CustomTestStringConvertible {
        var name: String
        var entries: [ArchiveGenerator.Entry]
        var code: UpdateError.Code
        var testDescription: String { name }
    }

    static let hostile: [HostileCase] = [
        HostileCase(name: "dot-dot", entries: [.file("../evil", [1])], code: .archiveUnsafePath),
        HostileCase(name: "dot-dot inside", entries: [.directory("a"), .file("a/../../evil", [1])], code: .archiveUnsafePath),
        HostileCase(name: "absolute", entries: [.file("/tmp/evil", [1])], code: .archiveUnsafePath),
        HostileCase(name: "absolute symlink", entries: [.symlink("link", target: "/etc/passwd")], code: .archiveLinkEscape),
        HostileCase(name: "relative symlink out", entries: [.directory("a"), .symlink("a/link", target: "../../etc")], code: .archiveLinkEscape),
        HostileCase(name: "symlink chain out", entries: [.symlink("self", target: "."), .symlink("out", target: "self/..")], code: .archiveLinkEscape),
        HostileCase(name: "symlink loop", entries: [.symlink("a", target: "b"), .symlink("b", target: "a")], code: .archiveLinkEscape),
        HostileCase(name: "write through symlink", entries: [.directory("d"), .symlink("l", target: "d"), .file("l/x", [1])], code: .archiveLinkEscape),
        HostileCase(name: "hard link out", entries: [.hardlink("h", target: "../../etc/passwd")], code: .archiveUnsafePath),
        HostileCase(name: "hard link to absolute", entries: [.hardlink("h", target: "/etc/passwd")], code: .archiveUnsafePath),
        HostileCase(name: "hard link to missing", entries: [.hardlink("h", target: "nothing")], code: .archiveLinkEscape),
        HostileCase(name: "character device", entries: [.characterDevice("dev")], code: .archiveUnsupportedEntry),
        HostileCase(name: "fifo", entries: [.fifo("pipe")], code: .archiveUnsupportedEntry),
        HostileCase(name: "duplicate file", entries: [.file("a", [1]), .file("a", [2])], code: .archiveMalformed),
        HostileCase(name: "bomb", entries: [.zeros("zeros", size: 64 << 20)], code: .archiveTooLarge),
        HostileCase(name: "many files", entries: (0..<300).map { .file("f\($0)", [1]) }, code: .archiveTooManyFiles),
    ]

    @Test(arguments: hostile)
    func refusesHostileArchives(_ hostile: HostileCase) throws {
        let (name, entries, code) = (hostile.name, hostile.entries, hostile.code)
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let archive = temp.sub("hostile.tar.zst")
        try ArchiveGenerator.write(entries, to: archive)
        let limits = ExtractionLimits(maximumBytes: 16 << 20, maximumEntries: 200)
        let error = #expect(throws: UpdateError.self, "\(name)") {
            try PackageExtractor.extract(archiveAt: archive, into: temp.sub("out"), limits: limits)
        }
        #expect(error?.code == code, "\(name): \(String(describing: error))")
        // Nothing was written outside the destination.
        #expect(!FileManager.default.fileExists(atPath: temp.sub("evil")))
    }

    @Test func acceptsSymlinksThatStayInside() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let archive = temp.sub("ok.tar.zst")
        try ArchiveGenerator.write([
            .directory("a/b"), .file("a/b/f", [1, 2]), .symlink("a/up", target: "../a/b/f"),
            .symlink("here", target: "."), .symlink("dangling", target: "a/missing"), .hardlink("a/hard", target: "a/b/f"),
        ], to: archive)
        let summary = try PackageExtractor.extract(archiveAt: archive, into: temp.sub("out"), limits: ExtractionLimits())
        #expect(summary.entries == 6)
        #expect(FileManager.default.contents(atPath: temp.sub("out/a/hard")) == Data([1, 2]))
    }

    @Test func refusesGarbage() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        try Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 * 7) }).write(to: URL(fileURLWithPath: temp.sub("junk")))
        let error = #expect(throws: UpdateError.self) {
            try PackageExtractor.extract(archiveAt: temp.sub("junk"), into: temp.sub("out"), limits: ExtractionLimits())
        }
        #expect(error?.code == .archiveMalformed)
    }
}
