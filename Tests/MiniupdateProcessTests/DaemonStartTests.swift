import Foundation
import MiniupdateTestSupport
import Testing

/// A daemon that cannot start says why and exits at once, and leaves the one that runs
/// untouched.
@Suite(.serialized) struct DaemonStartTests {
    static let app = "com.example.weather"

    /// With an `http://` repository, the second daemon trapped ("Client not shut down
    /// before the deinit", exit 132) and once hung: its HTTP client was left running when
    /// the socket could not be bound.
    @Test func aSecondDaemonOnABusySocketExitsWithAClearError() async throws {
        let first = try await ServerHarness.make(http: true)
        try first.repo.publish(Self.app, "1.0.0")
        let running = try await DaemonProcess.start(first)
        defer { running.signal(SIGKILL) }
        #expect(try await ctl(["install", Self.app], socket: first.socketPath).0 == 0)

        let second = try await ServerHarness.make(http: true)
        let refused = try DaemonProcess.launch(second, socket: first.socketPath)
        defer { refused.signal(SIGKILL) }
        let status = try await refused.waitForExit()
        #expect(status == 1, "\(refused.logText)")
        #expect(refused.process.terminationReason == .exit)
        #expect(refused.logText.contains("cannot start"), "\(refused.logText)")
        #expect(refused.logText.contains(first.socketPath), "\(refused.logText)")
        #expect(!refused.logText.contains("Fatal error"), "\(refused.logText)")

        // The first daemon still serves, on the same socket.
        let (answered, out, _) = try await ctl(["status", "--json"], socket: first.socketPath)
        #expect(answered == 0)
        #expect(out.contains(Self.app))
        await second.remove()
        await first.remove()
    }

    /// Two daemons on one state directory each kept their own view, and the second wrote
    /// its snapshot into the first's directory.
    @Test(arguments: ["--state-dir", "--cache-dir"])
    func aSecondDaemonOnADirectoryInUseIsRefused(_ shared: String) async throws {
        let first = try await ServerHarness.make()
        try first.repo.publish(Self.app, "1.0.0")
        let running = try await DaemonProcess.start(first)
        defer { running.signal(SIGKILL) }

        let second = try await ServerHarness.make()
        let directory = first.state.sub(shared == "--state-dir" ? "state" : "cache")
        let refused = try DaemonProcess.launch(second, extra: [shared, directory])
        defer { refused.signal(SIGKILL) }
        #expect(try await refused.waitForExit() == 1, "\(refused.logText)")
        let role = shared == "--state-dir" ? "state" : "cache"
        #expect(refused.logText.contains("\(role) directory \(directory) is in use by pid \(running.process.processIdentifier)"), "\(refused.logText)")
        // It touched nothing of the first's, and bound no socket.
        #expect(!FileManager.default.fileExists(atPath: second.socketPath))
        #expect(!FileManager.default.fileExists(atPath: first.state.sub("state/snapshot.json")))
        #expect(try await ctl(["status"], socket: first.socketPath).0 == 0)

        // Once the first stops, the directory is free again.
        running.signal(SIGTERM)
        #expect(try await running.waitForExit() == 0)
        let next = try await DaemonProcess.start(second, extra: [shared, directory])
        next.signal(SIGTERM)
        #expect(try await next.waitForExit() == 0)
        await second.remove()
        await first.remove()
    }
}
