import Foundation
import MiniupdateClient
import MiniupdateProtocol
import MiniupdateRepository
import MiniupdateTestSupport
import Testing

/// The fault-injection tool: SIGKILLs the real `miniupdated` during install, download,
/// staging, apply and rollback, at random instants and at named crash points, restarts
/// it, and checks after every kill that nothing was lost and nothing half-written shows.
///
/// `MINIUPDATE_CRASH_KILLS` sets the number of random kills (12 by default, so that CI
/// stays quick; `docs/reliability.md` records a run of 1,000), `MINIUPDATE_CRASH_SEED`
/// replays a run.
@Suite(.serialized) struct CrashConsistencyTests {
    static let alpha = "com.example.alpha"
    static let beta = "com.example.beta"

    @Test func randomKillsNeverLoseAnApp() async throws {
        let kills = ProcessInfo.processInfo.environment["MINIUPDATE_CRASH_KILLS"].flatMap { Int($0) } ?? 12
        let seed = ProcessInfo.processInfo.environment["MINIUPDATE_CRASH_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1 ... .max)
        var random = SplitMix64(seed: seed)
        let lab = try await CrashLab.make()
        defer { lab.remove() }
        var daemon = try await lab.start()
        var operations: [String: Int] = [:]
        var landings: [String: Int] = [:]
        var violations: [String] = []
        for kill in 0..<kills {
            let status = try await lab.status()
            let alpha = status.apps.first { $0.app == Self.alpha }
            let betaInstalled = status.apps.contains { $0.app == Self.beta && $0.installedVersion != nil }
            var choices = ["update", "update"]
            if !betaInstalled { choices.append("install") }
            if alpha?.stagedVersion != nil { choices += ["apply", "apply"] }
            if alpha?.previousVersion != nil { choices.append("rollback") }
            let operation = choices[Int(random.next() % UInt64(choices.count))]
            operations[operation, default: 0] += 1
            let quick = operation == "apply" || operation == "rollback"
            let delay = Duration.microseconds(Int64(random.next() % (quick ? 15_000 : 400_000)))
            switch operation {
            case "update":
                try lab.publish(Self.alpha)
                try await lab.send(Method.CheckForUpdate.name, app: Self.alpha)
            case "install":
                try await lab.send(Method.Install.name, app: Self.beta)
            case "apply":
                try await lab.send(Method.ApplyUpdate.name, app: Self.alpha)
            default:
                try await lab.send(Method.Rollback.name, app: Self.alpha)
            }
            try await Task.sleep(for: delay)
            daemon.signal(SIGKILL)
            _ = try await daemon.waitForExit()
            let context = "kill \(kill + 1) (\(operation) after \(delay), seed \(seed))"
            let found = lab.violationsWhileStopped()
            violations += found.map { "\(context): \($0)" }
            let partial = lab.partialDownload(of: Self.alpha)
            for landing in lab.workInFlight() { landings[landing, default: 0] += 1 }
            // An app whose install was interrupted stays half-installed only until the next
            // install; take fully installed ones away again so installs keep being exercised.
            if found.isEmpty { lab.uninstallIfComplete(Self.beta) }
            lab.http.clearLog()
            daemon = try await lab.start()
            violations += try await lab.violationsOnceSettled(resuming: partial).map { "\(context): \($0)" }
            if !violations.isEmpty { break }
        }
        daemon.signal(SIGKILL)
        print("crash consistency: \(kills) random kills \(operations.sorted { $0.key < $1.key }), work in flight at the kill \(landings.sorted { $0.key < $1.key }), seed \(seed), \(violations.count) violations")
        #expect(violations.isEmpty, "\(violations.joined(separator: "\n"))")
    }

    /// Each named point, armed through the environment, kills the daemon exactly between
    /// two steps; the restarted daemon must find a consistent state.
    @Test(arguments: ["download-halfway", "download-staged", "stage-unpacked", "stage-renamed", "file-written", "switch-linked", "switch-renamed", "trash-moved"])
    func killAtANamedPoint(_ point: String) async throws {
        let lab = try await CrashLab.make()
        defer { lab.remove() }
        // Two applied updates, so that the next apply moves the oldest version to the trash.
        var daemon = try await lab.start()
        for _ in 0..<2 {
            try lab.publish(Self.alpha)
            try await lab.checkAndWaitUntilReady(Self.alpha)
            _ = try await lab.call(Method.ApplyUpdate(app: Self.alpha))
        }
        try lab.publish(Self.alpha)
        let staging = ["download-halfway", "download-staged", "stage-unpacked", "stage-renamed", "file-written"].contains(point)
        if !staging { try await lab.checkAndWaitUntilReady(Self.alpha) }
        daemon.signal(SIGKILL)
        _ = try await daemon.waitForExit()

        daemon = try lab.launch(environment: [CrashPoint.environmentVariable: point])
        if await daemon.waitUntilReady(socketPath: lab.harness.socketPath) {
            if staging {
                try? await lab.send(Method.CheckForUpdate.name, app: Self.alpha)
            } else {
                try? await lab.send(Method.ApplyUpdate.name, app: Self.alpha)
            }
        }
        _ = try await daemon.waitForExit()
        #expect(daemon.wasKilled, "the daemon never reached \(point): \(daemon.logText.suffix(3000))")
        let partial = lab.partialDownload(of: Self.alpha)
        lab.http.clearLog()
        let stopped = lab.violationsWhileStopped()
        #expect(stopped.isEmpty, "\(stopped)")
        daemon = try await lab.start()
        defer { daemon.signal(SIGKILL) }
        let settled = try await lab.violationsOnceSettled(resuming: partial)
        #expect(settled.isEmpty, "\(settled)")
    }
}

/// A daemon over an HTTP repository whose packages are big enough to be killed mid-transfer,
/// with the expected tree of every published version to check installs against.
struct CrashLab: Sendable {
    let harness: ServerHarness
    var http: TestHTTPServer { harness.http! }
    let expected: ExpectedTrees
    /// 6 MiB of base64 text (about 4.6 MiB compressed): long enough to kill during download and unpack.
    let bulk: String
    /// Daemon logs, outside the state directory (which may be a filesystem to unmount).
    let logs: TemporaryDirectory

    final class ExpectedTrees: @unchecked Sendable {
        private let lock = NSLock()
        private var trees: [String: [String: String]] = [:]
        private var latest: [String: Int] = [:]

        func record(_ app: String, _ version: String, _ files: [String: String]) { lock.withLock { trees["\(app)/\(version)"] = files } }
        func tree(_ app: String, _ version: String) -> [String: String]? { lock.withLock { trees["\(app)/\(version)"] } }
        func nextPatch(_ app: String) -> Int { lock.withLock { latest[app, default: 0] += 1; return latest[app]! } }
    }

    /// `stateRoot`, if given, holds the daemon's state and cache (a filesystem of the test's).
    static func make(stateRoot: String? = nil) async throws -> CrashLab {
        var harness = try await ServerHarness.make(http: true)
        if let stateRoot {
            harness.state.remove()
            harness = ServerHarness(repo: harness.repo, state: TemporaryDirectory(existing: stateRoot), http: harness.http)
        }
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<(6 << 20) * 3 / 4).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let lab = CrashLab(harness: harness, expected: ExpectedTrees(), bulk: Data(bytes).base64EncodedString(), logs: try TemporaryDirectory("mu-logs"))
        try lab.publish(CrashConsistencyTests.alpha, patch: 0)
        try lab.publish(CrashConsistencyTests.beta, patch: 0)
        try FileManager.default.createDirectory(atPath: harness.state.sub("state"), withIntermediateDirectories: true)
        return lab
    }

    func remove() { harness.state.remove(); harness.repo.remove(); logs.remove() }

    func launch(environment: [String: String] = [:]) throws -> DaemonProcess {
        try DaemonProcess.launch(harness, environment: environment, logDirectory: logs.path)
    }

    func start() async throws -> DaemonProcess {
        let daemon = try launch()
        guard await daemon.waitUntilReady(socketPath: harness.socketPath) else {
            Issue.record("miniupdated did not become ready: \(daemon.logText)")
            throw CancellationError()
        }
        // The first start installs alpha.
        if !FileManager.default.fileExists(atPath: appDirectory(CrashConsistencyTests.alpha) + "/current") {
            _ = try await call(Method.Install(app: CrashConsistencyTests.alpha))
        }
        return daemon
    }

    /// Publishes the next patch version of `app`; keeps only the three newest packages.
    func publish(_ app: String, patch: Int? = nil) throws {
        let version = "1.0.\(patch ?? expected.nextPatch(app))"
        let files = ["index.html": "\(app) \(version)\n", "data/bulk.txt": bulk, "js/app.js": "console.log('\(version)')\n"]
        expected.record(app, version, files)
        try harness.repo.publish(app, version, files: files)
        let directory = "\(harness.repo.repositoryPath)/packages/\(app)"
        let packages = try FileManager.default.contentsOfDirectory(atPath: directory).map { "\(directory)/\($0)" }
        let byAge = try packages.sorted {
            try FileManager.default.attributesOfItem(atPath: $0)[.modificationDate] as! Date > FileManager.default.attributesOfItem(atPath: $1)[.modificationDate] as! Date
        }
        for old in byAge.dropFirst(3) { try FileManager.default.removeItem(atPath: old) }
    }

    func appDirectory(_ app: String) -> String { harness.state.sub("state/apps/\(app)") }

    /// Sends a request and does not wait for the answer.
    func send(_ method: String, app: String) async throws {
        try await LineClient.with(path: harness.socketPath) { client in
            try await client.request(1, method, "{\"app\":\"\(app)\"}")
            _ = await client.nextLine(timeout: .milliseconds(1))
        }
    }

    func call<Request: RPCMethod>(_ request: Request) async throws -> Request.Result {
        try await DaemonClient.withConnection(socketPath: harness.socketPath) { client in
            try await client.call(request)
        }
    }

    func status() async throws -> StatusResult {
        try await DaemonClient.withConnection(socketPath: harness.socketPath) { client in
            try await client.call(Method.Status())
        }
    }

    func checkAndWaitUntilReady(_ app: String) async throws {
        _ = try await call(Method.CheckForUpdate(app: app))
        try await waitUntil { (try? await status())?.apps.first { $0.app == app }?.state == "ready" }
    }

    /// The bytes of an interrupted download of `app` that the next attempt must resume from.
    func partialDownload(of app: String) -> (path: String, bytes: Int)? {
        let directory = harness.state.sub("cache/downloads/\(app)")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory),
              let partial = names.first(where: { $0.hasSuffix(".partial") }), names.contains(partial + ".json"),
              let size = (try? FileManager.default.attributesOfItem(atPath: "\(directory)/\(partial)"))?[.size] as? Int, size > 0
        else { return nil }
        let version = String(partial.dropLast(".partial".count))
        return ("/packages/\(app)/\(app)-\(version).tar.zst", size)
    }

    /// Takes an app away by hand while the daemon is stopped, if it is completely installed.
    func uninstallIfComplete(_ app: String) {
        let directory = appDirectory(app)
        if (try? FileManager.default.destinationOfSymbolicLink(atPath: directory + "/current")) != nil {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// What must hold at any instant, checked on disk right after a kill: every app's
    /// `current` names a complete tree whose files are the published ones, every tree
    /// under `versions/` is complete, and every state file parses.
    func violationsWhileStopped() -> [String] {
        var violations: [String] = []
        let apps = (try? FileManager.default.contentsOfDirectory(atPath: harness.state.sub("state/apps"))) ?? []
        for app in apps {
            let directory = appDirectory(app)
            let versions = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/versions")) ?? []
            for version in versions {
                guard let expected = expected.tree(app, version) else {
                    violations.append("\(app): unknown version directory \(version)")
                    continue
                }
                if Self.tree(at: "\(directory)/versions/\(version)") != expected {
                    violations.append("\(app): versions/\(version) differs from the published package")
                }
            }
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: directory + "/current") {
                if !target.hasPrefix("versions/") || !versions.contains(String(target.dropFirst("versions/".count))) {
                    violations.append("\(app): current points at \(target), which is not a complete version")
                }
            } else if app == CrashConsistencyTests.alpha {
                violations.append("\(app): current is missing")
            }
            if FileManager.default.fileExists(atPath: directory + "/state.json"), Self.jsonObject(at: directory + "/state.json") == nil {
                violations.append("\(app): state.json does not parse")
            }
        }
        let repositoryState = harness.state.sub("state/repository.json")
        if FileManager.default.fileExists(atPath: repositoryState), Self.jsonObject(at: repositoryState) == nil {
            violations.append("repository.json does not parse")
        }
        return violations
    }

    /// What must hold once the restarted daemon is idle again: it answers `status`, no app
    /// failed or lost its state, an interrupted download resumed from its partial, and no
    /// temporary file is left behind.
    func violationsOnceSettled(resuming partial: (path: String, bytes: Int)?) async throws -> [String] {
        var violations: [String] = []
        let alpha = CrashConsistencyTests.alpha
        // Finish whatever the kill interrupted.
        let check = try await call(Method.CheckForUpdate(app: alpha))
        if FileManager.default.fileExists(atPath: appDirectory(CrashConsistencyTests.beta)) {
            _ = try await call(Method.Install(app: CrashConsistencyTests.beta))
        }
        var settled: StatusResult?
        for _ in 0..<1000 {
            let status = try await status()
            let busy = status.apps.contains { ["checking", "downloading"].contains($0.state) } || status.daemon.counts.downloading > 0
            if !busy, check.hasUpdate != true || status.apps.contains(where: { $0.app == alpha && ($0.state == "ready" || $0.state == "failed") }) {
                settled = status
                break
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        guard let settled else { return ["the daemon did not settle within 10 s"] }
        for app in settled.apps where app.lastError != nil {
            violations.append("\(app.app): \(app.lastError!.reason): \(app.lastError!.message)")
        }
        if let partial, let first = http.requests(to: partial.path).first {
            if first.header("Range") != "bytes=\(partial.bytes)-" {
                violations.append("the download restarted (Range \(first.header("Range") ?? "none")) instead of resuming from the \(partial.bytes) bytes of its partial")
            }
        }
        violations += violationsWhileStopped()
        // Clean-up of the trash runs in the background after an apply; give it a moment.
        var leftovers: [String] = []
        for _ in 0..<200 {
            leftovers = temporaryFiles()
            if leftovers.isEmpty { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        violations += leftovers.map { "left behind: \($0)" }
        return violations
    }

    /// What a kill interrupted, judged by what it left on disk: a download (a partial), an
    /// unpack (a staging tree), a clean-up (trash), an atomic write (a temporary file).
    func workInFlight() -> Set<String> {
        var found: Set<String> = []
        for path in temporaryFiles() {
            if path.contains("/staging/") { found.insert("unpack") }
            else if path.contains("/trash/") { found.insert("trash") }
            else if path.contains(".tmp-") { found.insert("atomic write") }
            else if path.hasSuffix(".partial") { found.insert("download") }
        }
        return found.isEmpty ? ["between steps"] : found
    }

    /// In-flight names under the state and cache directories: temporary files and links,
    /// staging and trash contents, and partial downloads of anything not being downloaded.
    func temporaryFiles() -> [String] {
        var found: [String] = []
        for root in [harness.state.sub("state"), harness.state.sub("cache")] {
            guard let walker = FileManager.default.enumerator(atPath: root) else { continue }
            while let relative = walker.nextObject() as? String {
                let components = relative.split(separator: "/")
                let name = components.last.map(String.init) ?? relative
                let inFlightDirectory = components.dropLast().contains { $0 == "staging" || $0 == "trash" }
                if name.contains(".tmp-") || inFlightDirectory || name.hasSuffix(".partial") || name.hasSuffix(".partial.json") {
                    found.append("\(root)/\(relative)")
                }
            }
        }
        return found
    }

    /// Every regular file under `root`, by relative path, with its contents.
    static func tree(at root: String) -> [String: String]? {
        guard let walker = FileManager.default.enumerator(atPath: root) else { return nil }
        var files: [String: String] = [:]
        while let relative = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: "\(root)/\(relative)", isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            files[relative] = (try? String(contentsOfFile: "\(root)/\(relative)", encoding: .utf8)) ?? "<unreadable>"
        }
        return files
    }

    static func jsonObject(at path: String) -> Any? {
        FileManager.default.contents(atPath: path).flatMap { try? JSONSerialization.jsonObject(with: $0) }
    }
}
