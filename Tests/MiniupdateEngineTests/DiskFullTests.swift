import Foundation
import MiniupdateEngine
import MiniupdateRepository
import MiniupdateTestSupport
import Testing

/// Whether this process may mount a tmpfs (root, and not forbidden by a container).
func canMountTmpfs() -> Bool {
    guard getuid() == 0, let directory = try? TemporaryDirectory("mu-mount-probe") else { return false }
    defer { directory.remove() }
    guard mount("tmpfs", directory.path, "tmpfs", 0, "size=1m") == 0 else { return false }
    umount(directory.path)
    return true
}

@Suite(.serialized, .enabled(if: canMountTmpfs(), "needs root and permission to mount a tmpfs"))
struct DiskFullTests {
    static let app = "com.example.maps"

    /// Bytes in use on the filesystem holding `path`.
    func used(_ path: String) -> UInt64 {
        var info = statvfs()
        statvfs(path, &info)
        return UInt64(info.f_blocks - info.f_bfree) * UInt64(info.f_frsize)
    }

    @Test func aFullDiskFailsCleanlyAndALaterAttemptWithSpaceSucceeds() async throws {
        let harness = try await EngineHarness.make(http: true)
        // State and cache on one small tmpfs that the 2.0.0 package cannot fit.
        let volume = harness.state.path
        try #require(mount("tmpfs", volume, "tmpfs", 0, "size=3m") == 0)
        defer { umount2(volume, Int32(MNT_DETACH)) }
        try harness.repo.publish(Self.app, "1.0.0")
        try await harness.withEngine { engine, _ in try await engine.install(appID(Self.app)) }
        let baseline = used(volume)
        var generator = SystemRandomNumberGenerator()
        let random = Data((0..<(2 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }).base64EncodedString()
        try harness.repo.publish(Self.app, "2.0.0", files: ["index.html": "2.0.0\n", "big.txt": random])

        try await harness.withEngine { engine, events in
            try await engine.check(appID(Self.app))
            let failure = try await events.wait(for: Self.app) { $0.isFailed || $0.isReady }
            #expect(failure.failureCode == .noSpace, "\(failure)")
            #expect(try await engine.status(of: appID(Self.app)).lastError?.code == .noSpace)
        }
        // The previous version is intact and the space is given back.
        #expect(harness.current(Self.app) == "versions/1.0.0")
        #expect(harness.installedFile(Self.app) == "\(Self.app) 1.0.0\n")
        #expect(used(volume) <= baseline + 64 * 1024, "used \(used(volume)) bytes, baseline \(baseline)")

        // With room, the same update goes through.
        try #require(mount("tmpfs", volume, "tmpfs", UInt(MS_REMOUNT), "size=64m") == 0)
        try await harness.withEngine { engine, events in
            try await engine.check(appID(Self.app))
            try await events.wait(for: Self.app) { $0 == .ready(version: version("2.0.0")) }
            try await engine.applyUpdate(appID(Self.app))
        }
        #expect(harness.installedFile(Self.app) == "2.0.0\n")
        umount2(volume, Int32(MNT_DETACH))
        await harness.remove()
    }
}
