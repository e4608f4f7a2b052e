import Foundation
import MiniupdateClient
import MiniupdateProtocol
import MiniupdateRepository
import MiniupdateTestSupport
import Testing

/// The real `miniupdated` and `miniupdatectl` binaries, as an admin runs them.
struct DaemonProcess {
    static var binaries: String {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
    }

    let process: Process
    let log: String

    static func start(_ harness: ServerHarness, extra: [String] = [], config: String? = nil) async throws -> DaemonProcess {
        let daemon = try launch(harness, extra: extra, config: config)
        guard await daemon.waitUntilReady(socketPath: harness.socketPath) else {
            Issue.record("miniupdated did not become ready: \(daemon.logText)")
            throw CancellationError()
        }
        return daemon
    }

    /// Starts the daemon without waiting for it; `environment` is added to the test's own.
    /// The log goes to `logDirectory` (by default the harness's directory).
    static func launch(_ harness: ServerHarness, extra: [String] = [], config: String? = nil, environment: [String: String] = [:],
                       logDirectory: String? = nil, socket: String? = nil) throws -> DaemonProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(binaries)/miniupdated")
        let configPath = harness.state.sub("miniupdate.conf")
        if let config { try config.write(toFile: configPath, atomically: true, encoding: .utf8) }
        process.arguments = [
            "--config", configPath, "--state-dir", harness.state.sub("state"), "--cache-dir", harness.state.sub("cache"),
            "--socket", socket ?? harness.socketPath, "--log-level", "debug",
        ] + (config == nil ? ["--repository", harness.http?.baseURL ?? harness.repo.fileURL, "--trusted-key", try harness.writePublicKey()] : []) + extra
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let log = "\(logDirectory ?? harness.state.path)/daemon-\(UUID().uuidString.prefix(8)).log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return DaemonProcess(process: process, log: log)
    }

    /// Waits until the socket answers `status`; false if the process exits first or ten
    /// seconds pass.
    func waitUntilReady(socketPath: String) async -> Bool {
        for _ in 0..<500 {
            let answered = (try? await DaemonClient.withConnection(socketPath: socketPath) { client -> Bool in
                _ = try await client.call(Method.Status())
                return true
            }) ?? false
            if answered { return true }
            guard process.isRunning else { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    /// Whether the process ended by SIGKILL.
    var wasKilled: Bool {
        !process.isRunning && process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL
    }

    var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the process to exit and returns its status.
    func waitForExit(timeout: Duration = .seconds(10)) async throws -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        return process.isRunning ? nil : process.terminationStatus
    }
}

/// Runs `miniupdatectl` and returns (exit status, stdout, stderr).
func ctl(_ arguments: [String], socket: String) async throws -> (Int32, String, String) {
    try await run("\(DaemonProcess.binaries)/miniupdatectl", arguments + ["--socket", socket])
}

/// Runs a program to completion and returns (exit status, stdout, stderr). It waits
/// without blocking a thread: tests share a cooperative pool of as many threads as cores.
func run(_ executable: String, _ arguments: [String]) async throws -> (Int32, String, String) {
    let directory = try TemporaryDirectory("mu-run")
    defer { directory.remove() }
    let (outPath, errPath) = (directory.sub("out"), directory.sub("err"))
    _ = FileManager.default.createFile(atPath: outPath, contents: nil)
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    process.standardInput = FileHandle.nullDevice
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        process.terminationHandler = { _ in continuation.resume() }
        do {
            try process.run()
        } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
        }
    }
    return (process.terminationStatus, readText(outPath) ?? "", readText(errPath) ?? "")
}

/// Waits until `miniupdatectl status --json` shows `version` staged.
func waitUntilStaged(_ version: String, socket: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    try await waitUntil({ (try? await ctl(["status", "--json"], socket: socket))?.1.contains("\"stagedVersion\" : \"\(version)\"") ?? false },
                        sourceLocation: sourceLocation)
}

extension ServerHarness {
    func writePublicKey() throws -> String {
        let path = state.sub("trusted.pub")
        try repo.publicKey.fileContents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

@Suite(.serialized) struct DaemonProcessTests {
    static let app = "com.example.weather"

    /// Credentials are read when the connection is accepted: a client that sends
    /// `applyUpdate` and closes at once is still known, so its request is authorized (it
    /// was refused as "an unidentified peer" when they were read later, after the close).
    @Test func aClientThatSendsAndClosesAtOnceIsStillAuthorized() async throws {
        let harness = try await ServerHarness.make()
        try harness.repo.publish(Self.app, "1.0.0")
        let daemon = try await DaemonProcess.start(harness)
        defer { daemon.signal(SIGKILL) }
        let socket = harness.socketPath
        _ = try await ctl(["install", Self.app], socket: socket)
        let current = harness.state.sub("state/apps/\(Self.app)/current")
        for round in 1...20 {
            try harness.repo.publish(Self.app, "1.0.\(round)")
            _ = try await ctl(["check", Self.app], socket: socket)
            try await waitUntilStaged("1.0.\(round)", socket: socket)
            let fd = try await connectUnix(socket)
            _ = sendNow(fd, Array(#"{"jsonrpc":"2.0","id":1,"method":"applyUpdate","params":{"app":"\#(Self.app)"}}"#.utf8) + [0x0a])
            close(fd)
            try await waitUntil { (try? FileManager.default.destinationOfSymbolicLink(atPath: current)) == "versions/1.0.\(round)" }
        }
        #expect(!daemon.logText.contains("unidentified peer"))
        await harness.remove()
    }

    @Test func miniupdatectlCommandsWork() async throws {
        let harness = try await ServerHarness.make()
        try harness.repo.publish(Self.app, "1.0.0")
        let daemon = try await DaemonProcess.start(harness)
        defer { daemon.signal(SIGKILL) }
        let socket = harness.socketPath

        var (status, out, err) = try await ctl(["install", Self.app], socket: socket)
        #expect(status == 0, "\(err)")
        #expect(out.contains("\(Self.app): 1.0.0 installed"))

        (status, out, _) = try await ctl(["status", "--json"], socket: socket)
        #expect(status == 0)
        let json = try JSONDecoder().decode(StatusResult.self, from: Data(out.utf8))
        #expect(json.apps.map(\.app) == [Self.app])
        #expect(json.apps.first?.installedVersion == "1.0.0")
        #expect(json.daemon.counts.apps == 1)

        try harness.repo.publish(Self.app, "1.1.0")
        (status, out, _) = try await ctl(["check"], socket: socket)
        #expect(status == 0)
        #expect(out.contains("\(Self.app): update available: 1.1.0"))
        (status, out, _) = try await ctl(["check", Self.app], socket: socket)
        #expect(out.contains("update available: 1.1.0"))

        try await waitUntilStaged("1.1.0", socket: socket)
        (status, out, _) = try await ctl(["status"], socket: socket)
        #expect(out.contains("1 app, 1 update ready"), "\(out)")
        #expect(out.contains("ready"))

        (status, out, _) = try await ctl(["apply", Self.app], socket: socket)
        #expect(status == 0)
        #expect(out.contains("now 1.1.0 (was 1.0.0)"))
        (status, out, _) = try await ctl(["rollback", Self.app], socket: socket)
        #expect(out.contains("rolled back to 1.0.0 from 1.1.0"))
        (status, _, err) = try await ctl(["apply", Self.app], socket: socket)
        #expect(status == 1)
        #expect(err.contains("[no-update-ready]"))
        (status, _, err) = try await ctl(["install", "Not An Id"], socket: socket)
        #expect(status == 64, "a usage error")
        #expect(err.contains("invalid app id"))
        (status, out, _) = try await ctl(["simulate", Self.app, "--no-update"], socket: socket)
        #expect(status == 0)
        (status, _, err) = try await ctl(["status"], socket: harness.state.sub("absent.sock"))
        #expect(status == 69)
        #expect(err.contains("cannot reach miniupdated"))
        (status, _, _) = try await ctl(["simulate", Self.app], socket: socket)
        #expect(status == 64)
        await harness.remove()
    }

    /// An idle daemon sleeps: after a check, a download, staging and the status updates
    /// that follow, no thread wakes. (Swift's default executor on Linux, libdispatch's
    /// pool, woke once a second for the rest of the process's life after its first task;
    /// `Task.sleep` started it too.)
    @Test func anIdleDaemonDoesNotWakeUp() async throws {
        let harness = try await ServerHarness.make(http: true)
        try harness.repo.publish(Self.app, "1.0.0")
        let daemon = try await DaemonProcess.start(harness)
        defer { daemon.signal(SIGKILL) }
        let socket = harness.socketPath
        _ = try await ctl(["install", Self.app], socket: socket)
        try harness.repo.publish(Self.app, "1.1.0")
        _ = try await ctl(["check"], socket: socket)
        try await waitUntilStaged("1.1.0", socket: socket)
        // The status line is refreshed at most twice a second, and connections to the repository
        // are closed a second after they fall idle: let both pass.
        try await Task.sleep(for: .seconds(2))
        #expect(harness.http?.openConnections == 0, "a connection to the repository is still open, to be closed later")
        let before = Self.contextSwitches(of: daemon.process.processIdentifier)
        try await Task.sleep(for: .seconds(3))
        let after = Self.contextSwitches(of: daemon.process.processIdentifier)
        let woke = after.filter { $0.value != before[$0.key] }
        #expect(woke.isEmpty, "threads that woke while idle (thread id: name): \(woke.keys.sorted().map { "\($0): \(Self.threadName(daemon.process.processIdentifier, $0))" })")
        await harness.remove()
    }

    @Test func lifecycleLinesKeepTheConfiguredLogLevel() async throws {
        let harness = try await ServerHarness.make()
        let daemon = try await DaemonProcess.start(harness, extra: ["--log-level", "info"])
        defer { daemon.signal(SIGKILL) }
        try await waitUntil { daemon.logText.contains("] ready") }
        // The status line is logged at debug when there is no systemd to tell.
        #expect(!daemon.logText.contains(" debug "), "\(daemon.logText)")
        await harness.remove()
    }

    /// Voluntary plus involuntary context switches of each thread, by thread id.
    static func contextSwitches(of pid: Int32) -> [Int: Int] {
        var switches: [Int: Int] = [:]
        for task in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? [] {
            let status = readText("/proc/\(pid)/task/\(task)/status") ?? ""
            switches[Int(task) ?? 0] = status.split(separator: "\n").filter { $0.contains("ctxt_switches") }
                .compactMap { $0.split(separator: "\t").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }.reduce(0, +)
        }
        return switches
    }

    static func threadName(_ pid: Int32, _ thread: Int) -> String {
        (readText("/proc/\(pid)/task/\(thread)/comm") ?? "?").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func watchPrintsEventsAndJSON() async throws {
        let harness = try await ServerHarness.make()
        try harness.repo.publish(Self.app, "1.0.0")
        let daemon = try await DaemonProcess.start(harness)
        defer { daemon.signal(SIGKILL) }
        _ = try await ctl(["install", Self.app], socket: harness.socketPath)
        for json in [false, true] {
            let watch = Process()
            watch.executableURL = URL(fileURLWithPath: "\(DaemonProcess.binaries)/miniupdatectl")
            watch.arguments = ["watch", Self.app, "--socket", harness.socketPath] + (json ? ["--json"] : [])
            let output = harness.state.sub("watch-\(json).out")
            _ = FileManager.default.createFile(atPath: output, contents: nil)
            watch.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
            try watch.run()
            // Simulated until the watch, once subscribed, prints the failure.
            let expected = json ? "\"onUpdateFailed\"" : "\(Self.app): update failed 1.0.1-simulated: simulated failure [simulated]"
            try await waitUntil {
                _ = try? await ctl(["simulate", Self.app, "--failed"], socket: harness.socketPath)
                return readText(output)?.contains(expected) == true
            }
            watch.terminate()
            watch.waitUntilExit()
            let text = readText(output) ?? ""
            if json {
                let lines = text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                #expect(lines.contains { $0["method"] as? String == "onUpdateFailed" })
                #expect(lines.count == text.split(separator: "\n").count, "every line is one JSON object")
            } else {
                #expect(text.contains(expected))
            }
        }
        await harness.remove()
    }

    @Test func sighupReloadsWithoutDroppingClients() async throws {
        let harness = try await ServerHarness.make()
        try harness.repo.publish(Self.app, "1.0.0")
        let newKey = RepositorySigningKey()
        let keyPath = try harness.writePublicKey()
        let config = "repository = \(harness.repo.fileURL)\ntrusted-key = \(keyPath)\n"
        let daemon = try await DaemonProcess.start(harness, config: config)
        defer { daemon.signal(SIGKILL) }
        try await LineClient.with(path: harness.socketPath) { client in
            try await client.request(1, "install", #"{"app":"\#(Self.app)"}"#)
            #expect(try await client.next(where: isResponse(1))?.result?["version"] as? String == "1.0.0")
            try await client.request(2, "subscribe", #"{"app":"\#(Self.app)"}"#)
            _ = try await client.next(where: isResponse(2))

            // The publisher rotates to a new key; the admin trusts it and reloads.
            let rotated = harness.state.sub("rotated.pub")
            try newKey.publicKey.fileContents.write(toFile: rotated, atomically: true, encoding: .utf8)
            try "repository = \(harness.repo.fileURL)\ntrusted-key = \(rotated)\n".write(toFile: harness.state.sub("miniupdate.conf"), atomically: true, encoding: .utf8)
            let index = try #require(try harness.repo.publisher.currentIndex())
            var next = index
            next.serial += 1
            next.expires = RepositoryFixture.now + 3600
            try Data(try SignedIndex(signing: next, with: [newKey]).fileContents).write(to: URL(fileURLWithPath: "\(harness.repo.repositoryPath)/index.signed"))
            daemon.signal(SIGHUP)
            try await waitUntil { daemon.logText.contains("reloaded") }

            // The same connection still works, and checks now trust the new key.
            try await client.request(3, "checkForUpdate", #"{"app":"\#(Self.app)"}"#)
            let checked = try #require(try await client.next(where: isResponse(3)))
            #expect(checked.error == nil, "\(checked)")
            #expect(checked.result?["hasUpdate"] as? Bool == false)
        }
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit() == 0)
        await harness.remove()
    }

    @Test func sigtermDuringADownloadParksItAndTheNextStartResumes() async throws {
        let harness = try await ServerHarness.make(http: true)
        try harness.repo.publish(Self.app, "1.0.0")
        var daemon = try await DaemonProcess.start(harness)
        _ = try await ctl(["install", Self.app], socket: harness.socketPath)
        // Random base64 barely compresses: the package stays about 3 MiB.
        var generator = SystemRandomNumberGenerator()
        let random = Data((0..<(3 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }).base64EncodedString()
        let release = try harness.repo.publish(Self.app, "2.0.0", files: ["index.html": "2.0.0\n", "big.txt": random])
        // 64 KiB every 50 ms: long enough to be stopped half-way.
        harness.http!.setFault(.drip(bytes: 64 * 1024, interval: .milliseconds(50)), for: "/" + release.package)
        _ = try await ctl(["check", Self.app], socket: harness.socketPath)
        let partial = harness.state.sub("cache/downloads/\(Self.app)/2.0.0.partial")
        try await waitUntil { ((try? FileManager.default.attributesOfItem(atPath: partial)[.size] as? Int) ?? 0) > 256 * 1024 }
        if !FileManager.default.fileExists(atPath: partial) { Issue.record("no partial: \(daemon.logText)") }
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit() == 0)
        // Stopped, not finished: the daemon did not wait for the download to complete.
        let kept = try #require(try FileManager.default.attributesOfItem(atPath: partial)[.size] as? Int)
        #expect(kept > 0 && kept < Int(release.size))

        harness.http!.setFault(nil, for: "/" + release.package)
        harness.http!.clearLog()
        daemon = try await DaemonProcess.start(harness)
        defer { daemon.signal(SIGKILL) }
        try await waitUntilStaged("2.0.0", socket: harness.socketPath)
        let resumed = try #require(harness.http!.requests(to: "/" + release.package).first)
        #expect(resumed.header("Range") == "bytes=\(kept)-")
        #expect(resumed.bodyBytes == Int(release.size) - kept)
        await harness.remove()
    }
}

/// Runs `miniupdatectl` as another uid and gid (numeric; no account needed), with setpriv.
func ctl(as uid: Int, gid: Int, _ arguments: [String], socket: String) async throws -> (Int32, String, String) {
    try await run("/usr/bin/setpriv", ["--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "--", "\(DaemonProcess.binaries)/miniupdatectl"] + arguments + ["--socket", socket])
}

@Suite(.serialized, .enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "needs root and setpriv to act as other users"))
struct AccessControlTests {
    static let app = "com.example.weather"
    static let other = "com.example.news"

    @Test func adminMethodsNeedRootTheAdminGroupOrTheAppsOwner() async throws {
        let harness = try await ServerHarness.make()
        try harness.repo.publish(Self.app, "1.0.0")
        try harness.repo.publish(Self.other, "1.0.0")
        let key = try harness.writePublicKey()
        let config = """
            repository = \(harness.repo.fileURL)
            trusted-key = \(key)
            admin-group = 4343
            app-owner.\(Self.app) = 4242
            """
        let daemon = try await DaemonProcess.start(harness, config: config)
        defer { daemon.signal(SIGKILL) }
        let socket = harness.socketPath
        // Let other uids reach the socket (a packaged daemon gets this from the socket unit).
        chmod(harness.state.path, 0o755)
        chmod(socket, 0o666)
        #expect(try await ctl(["install", Self.app], socket: socket).0 == 0)  // root
        #expect(try await ctl(["install", Self.other], socket: socket).0 == 0)

        // The app's owner: may read, and may check and apply its own app; nothing else.
        var (status, _, err) = try await ctl(as: 4242, gid: 4242, ["status"], socket: socket)
        #expect(status == 0, "\(err)")
        (status, _, err) = try await ctl(as: 4242, gid: 4242, ["apply", Self.app], socket: socket)
        #expect(status == 1)
        #expect(err.contains("[no-update-ready]"), "\(err)")  // permitted, nothing to apply
        (status, _, err) = try await ctl(as: 4242, gid: 4242, ["check", Self.app], socket: socket)
        #expect(status == 0, "\(err)")
        for arguments in [["apply", Self.other], ["install", Self.other], ["rollback", Self.app], ["check", Self.other], ["check"], ["simulate", Self.app, "--ready"]] {
            (status, _, err) = try await ctl(as: 4242, gid: 4242, arguments, socket: socket)
            #expect(status == 77, "\(arguments)")
            #expect(err.contains("[not-permitted]"), "\(arguments): \(err)")
            // The command as typed, not the wire method, and who may.
            #expect(err.contains("miniupdatectl \(arguments.joined(separator: " ")) is not permitted for you (uid 4242)"), "\(err)")
            #expect(err.contains("it needs root, uid 0 (the daemon's user) or the group 4343"), "\(err)")
        }
        // A member of the admin group may do everything.
        (status, _, err) = try await ctl(as: 4444, gid: 4343, ["check", Self.app], socket: socket)
        #expect(status == 0, "\(err)")
        (status, _, err) = try await ctl(as: 4444, gid: 4343, ["simulate", Self.app, "--no-update"], socket: socket)
        #expect(status == 0, "\(err)")
        // Anyone else may read only.
        (status, _, err) = try await ctl(as: 4545, gid: 4545, ["check"], socket: socket)
        #expect(err.contains("[not-permitted]"))
        #expect(try await ctl(as: 4545, gid: 4545, ["status", "--json"], socket: socket).0 == 0)
        // One who may not open the socket is told which group may.
        chown(socket, 0, 65534)
        chmod(socket, 0o660)
        (status, _, err) = try await ctl(as: 4545, gid: 4545, ["status"], socket: socket)
        #expect(status == 77)
        #expect(err.contains("permission denied on \(socket)"), "\(err)")
        #expect(err.contains("join the group nogroup"), "\(err)")
        // Refusals are logged with the peer's uid and pid.
        try await waitUntil { daemon.logText.contains("refused install from uid 4242 pid ") }
        await harness.remove()
    }
}
