import Foundation
import MiniupdateCore
import MiniupdateProtocol
import MiniupdateRepository
import MiniupdateTestSupport
import Testing

/// The conventions of `miniupdatectl`, `miniupdate-repo` and `miniupdated` as an admin
/// meets them: exit statuses, `--json` and `-q`, errors that name the fix, suggestions.
@Suite(.serialized) struct CommandLineProcessTests {
    static let app = "com.example.weather"
    static var ctlPath: String { "\(DaemonProcess.binaries)/miniupdatectl" }
    static var repoTool: String { "\(DaemonProcess.binaries)/miniupdate-repo" }

    /// Runs `body` with a daemon that has 1.0.0 of the app installed, and its socket.
    static func withInstalledApp(_ body: (ServerHarness, String) async throws -> Void) async throws {
        let harness = try await ServerHarness.make()
        try harness.repo.publish(app, "1.0.0")
        let daemon = try await DaemonProcess.start(harness)
        defer { daemon.signal(SIGKILL) }
        #expect(try await ctl(["install", app], socket: harness.socketPath).0 == 0)
        try await body(harness, harness.socketPath)
        await harness.remove()
    }

    static func json(_ text: String) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
    }

    @Test func aMistypedCommandIsAUsageErrorWithASuggestion() async throws {
        var (status, out, err) = try await run(Self.ctlPath, ["stauts"])
        #expect(status == 64)
        #expect(out.isEmpty)
        #expect(err.contains("unknown command 'stauts'") && err.contains("did you mean 'status'?"), "\(err)")
        (status, _, err) = try await run(Self.repoTool, ["pubilsh"])
        #expect(status == 64)
        #expect(err.contains("did you mean 'publish'?"), "\(err)")
        // With --json, the usage error is JSON on stdout too.
        (status, out, err) = try await run(Self.ctlPath, ["stauts", "--json"])
        #expect(status == 64)
        #expect((Self.json(out)?["error"] as? [String: Any])?["reason"] as? String == "usage", "\(out)")
        #expect(err.isEmpty)
    }

    /// Completion scripts are generated (the .deb ships them), and offer the installed apps.
    @Test func completionsAreGeneratedAndOfferTheInstalledApps() async throws {
        for tool in ["miniupdatectl", "miniupdate-repo", "miniupdated"] {
            for shell in ["bash", "zsh", "fish"] {
                let (status, out, err) = try await run("\(DaemonProcess.binaries)/\(tool)", ["--generate-completion-script", shell])
                #expect(status == 0, "\(tool) \(shell): \(err)")
                #expect(!out.isEmpty)
            }
        }
        try await Self.withInstalledApp { _, socket in
            let (status, out, err) = try await run(Self.ctlPath, ["---completion", "apply", "--", "positional@0", "3", "0", "apply", "--socket", socket, ""])
            #expect(status == 0, "\(err)")
            #expect(out.split(separator: "\n").contains(Substring(Self.app)), "\(out)")
        }
    }

    @Test func everyCommandSaysItsVersionFromOnePlace() async throws {
        for tool in ["miniupdatectl", "miniupdate-repo", "miniupdated"] {
            let (status, out, _) = try await run("\(DaemonProcess.binaries)/\(tool)", ["--version"])
            #expect(status == 0)
            #expect(out == "\(MiniupdateRelease.version)\n", "\(tool): \(out)")
        }
    }

    @Test func anUnreachableDaemonNamesTheFixAndJSONStaysPure() async throws {
        let directory = try TemporaryDirectory("mu-cli")
        defer { directory.remove() }
        let socket = directory.sub("absent.sock")
        // The socket may come before the command, as with systemctl.
        var (status, out, err) = try await run(Self.ctlPath, ["--socket", socket, "status"])
        #expect(status == 69)
        #expect(out.isEmpty)
        #expect(err.contains("cannot reach miniupdated at \(socket)") && err.contains("is miniupdated serving \(socket)?"), "\(err)")
        (status, out, err) = try await run(Self.ctlPath, ["--socket=\(socket)", "status", "--json"])
        #expect(status == 69)
        #expect(err.isEmpty, "\(err)")
        let failure = try #require(Self.json(out)?["error"] as? [String: Any], "\(out)")
        #expect(failure["reason"] as? String == "daemon-unreachable")
        #expect((failure["hint"] as? String)?.contains(socket) == true)
    }

    @Test func jsonQuietAndExitStatusAgainstARealDaemon() async throws {
        let harness = try await ServerHarness.make()
        try harness.repo.publish(Self.app, "1.0.0")
        let daemon = try await DaemonProcess.start(harness)
        defer { daemon.signal(SIGKILL) }
        let socket = harness.socketPath
        var (status, out, err) = try await ctl(["install", Self.app, "--json"], socket: socket)
        #expect(status == 0, "\(err)")
        #expect(Self.json(out)?["version"] as? String == "1.0.0", "\(out)")
        // Right after an install, the status says when the app was last checked.
        (status, out, _) = try await ctl(["status", "--json"], socket: socket)
        let installed = try JSONDecoder().decode(StatusResult.self, from: Data(out.utf8))
        #expect(installed.apps.first?.lastCheck != nil)

        (status, out, err) = try await ctl(["apply", Self.app, "--json"], socket: socket)
        #expect(status == 1)
        #expect(err.isEmpty)
        let refusal = try #require(Self.json(out)?["error"] as? [String: Any], "\(out)")
        #expect(refusal["reason"] as? String == "no-update-ready")
        #expect(refusal["code"] as? Int == 1002)

        (status, out, err) = try await ctl(["check", "-q"], socket: socket)
        #expect(status == 0)
        #expect(out.isEmpty && err.isEmpty, "\(out)\(err)")
        (status, out, _) = try await ctl(["simulate", "com.example.absent", "--ready"], socket: socket)
        #expect(status == 1)
        await harness.remove()
    }

    @Test func checkWaitWaitsForTheDownloadsAndFailsWithThem() async throws {
        try await Self.withInstalledApp { harness, socket in
            try harness.repo.publish(Self.app, "1.1.0")
            var (status, out, err) = try await ctl(["check", "--wait", Self.app], socket: socket)
            #expect(status == 0, "\(err)")
            #expect(out.contains("\(Self.app): update 1.1.0 downloaded and ready to apply"), "\(out)")
            (status, out, _) = try await ctl(["status", "--json"], socket: socket)
            #expect(out.contains("\"stagedVersion\" : \"1.1.0\""))

            // A release whose package does not match the index fails, and so does the wait.
            let release = try harness.repo.publish(Self.app, "1.2.0")
            let package = "\(harness.repo.repositoryPath)/\(release.package)"
            var bytes = try Data(contentsOf: URL(fileURLWithPath: package))
            bytes[bytes.count / 2] ^= 0xff
            try bytes.write(to: URL(fileURLWithPath: package))
            (status, out, err) = try await ctl(["check", "--wait"], socket: socket)
            #expect(status == 1)
            #expect(out.contains("\(Self.app): update 1.2.0 failed"), "\(out)")
            #expect(err.contains("1 download failed") && err.contains("[digest-mismatch]"), "\(err)")
            (status, out, _) = try await ctl(["check", "--wait", "--json"], socket: socket)
            #expect(status == 1)
            let outcomes = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]], "\(out)")
            #expect(outcomes.first?["download"] as? String == "failed")
        }
    }

    /// Ctrl-C stops the waiting, not the install, and says so (it said nothing before).
    @Test func ctrlCDuringAnInstallSaysItGoesOnInTheBackground() async throws {
        let harness = try await ServerHarness.make(http: true)
        let release = try harness.repo.publish(Self.app, "1.0.0")
        // The package waits at the server until the test lets it go.
        harness.http!.setFault(.hold, for: "/" + release.package)
        let daemon = try await DaemonProcess.start(harness)
        defer { daemon.signal(SIGKILL) }

        let install = Process()
        install.executableURL = URL(fileURLWithPath: Self.ctlPath)
        install.arguments = ["install", Self.app, "--socket", harness.socketPath]
        let errors = Pipe()
        install.standardError = errors
        install.standardOutput = FileHandle.nullDevice
        try install.run()
        try await waitUntil { harness.http!.heldRequests == 1 }
        kill(install.processIdentifier, SIGINT)
        install.waitUntilExit()
        #expect(install.terminationStatus == 130)
        let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(said.contains("the install of \(Self.app) continues in the background; see 'miniupdatectl watch \(Self.app)'"), "\(said)")
        // And it does.
        harness.http!.releaseHeldRequests()
        try await waitUntil { harness.current(Self.app) == "versions/1.0.0" }
        if harness.current(Self.app) != "versions/1.0.0" { Issue.record("not installed: \(daemon.logText)") }
        await harness.remove()
    }

    @Test func checkConfigTellsAValidConfigurationFromABadOne() async throws {
        let harness = try await ServerHarness.make()
        let key = try harness.writePublicKey()
        let config = harness.state.sub("check.conf")
        try "repository = \(harness.repo.fileURL)\ntrusted-key = \(key)\n".write(toFile: config, atomically: true, encoding: .utf8)
        var (status, out, err) = try await run("\(DaemonProcess.binaries)/miniupdated", ["--check-config", "--config", config])
        #expect(status == 0, "\(err)")
        #expect(out.contains("\(config) is valid: repository \(harness.repo.fileURL), 1 trusted key"), "\(out)")

        try "repository = \(harness.repo.fileURL)\ntrusted-key = \(key)\ncheck-interval = soon\n".write(toFile: config, atomically: true, encoding: .utf8)
        (status, out, err) = try await run("\(DaemonProcess.binaries)/miniupdated", ["--check-config", "--config", config])
        #expect(status == 78)
        #expect(err.contains("\(config):3: check-interval: expected a duration"), "\(err)")
        // A daemon started with it exits 78 too, before it touches anything.
        (status, _, err) = try await run("\(DaemonProcess.binaries)/miniupdated", ["--config", config, "--state-dir", harness.state.sub("state"), "--socket", harness.socketPath])
        #expect(status == 78, "\(err)")
        #expect(!FileManager.default.fileExists(atPath: harness.state.sub("state")))
        await harness.remove()
    }

    /// A rejected `systemctl reload` is visible: `status` says so until a reload works.
    @Test func aRejectedReloadShowsInTheStatus() async throws {
        let harness = try await ServerHarness.make()
        let key = try harness.writePublicKey()
        let good = "repository = \(harness.repo.fileURL)\ntrusted-key = \(key)\n"
        let daemon = try await DaemonProcess.start(harness, config: good)
        defer { daemon.signal(SIGKILL) }
        let configPath = harness.state.sub("miniupdate.conf")
        try (good + "max-files = many\n").write(toFile: configPath, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        try await waitUntil { (try? await ctl(["status"], socket: harness.socketPath))?.1.contains("reload rejected") == true }
        let (_, out, _) = try await ctl(["status", "--json"], socket: harness.socketPath)
        let status = try JSONDecoder().decode(StatusResult.self, from: Data(out.utf8))
        #expect(status.daemon.reloadError?.reason == "invalid-argument")
        #expect(status.daemon.reloadError?.message.contains("max-files") == true)

        try good.write(toFile: configPath, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        try await waitUntil { (try? await ctl(["status", "--json"], socket: harness.socketPath))?.1.contains("reloadError") == false }
        await harness.remove()
    }

    @Test func statusShowsAHeldBackVersion() async throws {
        try await Self.withInstalledApp { harness, socket in
            try harness.repo.publish(Self.app, "1.1.0")
            #expect(try await ctl(["check", "--wait"], socket: socket).0 == 0)
            #expect(try await ctl(["apply", Self.app], socket: socket).0 == 0)
            let (status, out, _) = try await ctl(["rollback", Self.app], socket: socket)
            #expect(status == 0)
            #expect(out.contains("rolled back to 1.0.0 from 1.1.0, which is held back"), "\(out)")
            let table = try await ctl(["status"], socket: socket).1
            #expect(table.contains("held back: 1.1.0"), "\(table)")
        }
    }
}
