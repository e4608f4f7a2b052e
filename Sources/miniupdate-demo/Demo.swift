import Logging
import MiniupdateClient
import MiniupdateCore
import MiniupdateDaemon
import MiniupdateProtocol
import MiniupdateRepository
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The main job in one command: a signed repository, the daemon, and a mini app that
/// receives onCheckForUpdate → progress → onUpdateReady, applies the update, and sees its
/// files switched. Needs no root, no systemd and no configuration; cleans up after itself.
@main
struct Demo {
    static func main() async {
        let workspace: String
        do {
            workspace = try makeTemporaryDirectory()
        } catch {
            say("cannot create a temporary directory: \(error)")
            exit(1)
        }
        defer { try? FileSystem.removeTree(workspace) }
        do {
            try await run(in: workspace)
            say("\ndone; removed \(workspace)")
        } catch {
            say("demo failed: \(error)")
            try? FileSystem.removeTree(workspace)
            exit(1)
        }
    }

    static func run(in workspace: String) async throws {
        let repository = "\(workspace)/repo"
        let socket = "\(workspace)/miniupdate.sock"
        let weather = try AppID("com.example.weather")
        let news = try AppID("com.example.news")

        step("1. A publisher signs a repository with two mini apps")
        let key = RepositorySigningKey()
        try FileSystem.writeAtomically(Array(key.publicKey.fileContents.utf8), to: "\(workspace)/publisher.pub")
        let publisher = RepositoryPublisher(directory: repository)
        for (app, text) in [(weather, "Sunny, 21°C"), (news, "Headlines")] {
            let source = try writeApp(in: workspace, app: app, version: "1.0.0", body: text, padding: 0)
            let release = try publisher.publish(app: app, version: Version("1.0.0"), from: source, key: key, expiresIn: .seconds(3600), now: now())
            say("   published \(app) 1.0.0 (\(release.size) bytes, sha256 \(release.sha256.prefix(12))…)")
        }

        step("2. miniupdated starts on \(socket)")
        let logger = {
            var logger = Logger(label: "miniupdated")
            logger.logLevel = .warning
            return logger
        }()
        let flags = DaemonFlags(
            configPath: "\(workspace)/none.conf", stateDirectory: "\(workspace)/state", cacheDirectory: "\(workspace)/cache",
            socket: socket, repository: "file://\(repository)", trustedKeys: ["\(workspace)/publisher.pub"], logLevel: .warning
        )
        let ready = ReadySignal()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await Daemon(flags: flags, logger: logger, notifier: ready).run() }
            defer { group.cancelAll() }
            try await ready.wait()

            step("3. An admin installs both apps (miniupdatectl install …)")
            try await DaemonClient.withConnection(socketPath: socket) { client in
                for app in [weather, news] {
                    let result = try await client.call(Method.Install(app: app.rawValue))
                    say("   \(result.app) \(result.version) installed")
                }
            }
            let current = "\(workspace)/state/apps/\(weather.rawValue)/current"
            say("   \(current) -> \(FileSystem.readLink(current) ?? "?")")
            say("   index.html: \(try readFile("\(current)/index.html"))")

            step("4. The weather mini app starts and listens, as with wx.getUpdateManager()")
            let applied = ReadySignal()
            let manager = UpdateManager(app: weather.rawValue, socketPath: socket)
            manager.onCheckForUpdate { res in say("   [app] onCheckForUpdate: hasUpdate=\(res.hasUpdate)\(res.version.map { ", version \($0)" } ?? "")") }
            manager.onUpdateFailed { failure in say("   [app] onUpdateFailed: \(failure.error.message)") }
            manager.onRestart { update in
                say("   [app] onUpdateApplied: now \(update.version), was \(update.previousVersion ?? "-"); the app restarts on its new files")
                applied.ready()
            }
            let updateReady = ReadySignal()
            manager.onUpdateReady { info in
                say("   [app] onUpdateReady: \(info.version) is downloaded; the user taps \"Restart\", the app calls applyUpdate()")
                updateReady.ready()
            }
            group.addTask {
                try await updateReady.wait()
                try await manager.applyUpdate()
            }
            group.addTask {
                for await event in manager.events() {
                    if case .downloadProgress(let version, let bytes, let total) = event {
                        say("   [app] progress: \(version) \(bytes * 100 / max(total, 1))% (\(bytes) of \(total) bytes)")
                    }
                }
            }
            group.addTask { try await manager.run() }
            try await Task.sleep(for: .milliseconds(300))

            step("5. The publisher releases weather 1.1.0; the app's next cold start checks")
            let source = try writeApp(in: workspace, app: weather, version: "1.1.0", body: "Rain later, 17°C", padding: 24 << 20)
            let release = try publisher.publish(app: weather, version: Version("1.1.0"), from: source, key: key, expiresIn: .seconds(3600), now: now())
            say("   published \(weather) 1.1.0 (\(release.size) bytes)")
            try await manager.checkForUpdate()
            try await applied.wait()

            step("6. The files on disk switched atomically")
            say("   \(current) -> \(FileSystem.readLink(current) ?? "?")")
            say("   index.html: \(try readFile("\(current)/index.html"))")
            say("   kept for rollback: \(try FileSystem.contentsOfDirectory("\(workspace)/state/apps/\(weather.rawValue)/versions").joined(separator: ", "))")
        }
    }

    /// Writes a small mini app; `padding` adds an incompressible asset so the download shows progress.
    static func writeApp(in workspace: String, app: AppID, version: String, body: String, padding: Int) throws -> String {
        let directory = "\(workspace)/src/\(app.rawValue)-\(version)"
        try FileSystem.createDirectory("\(directory)/pages")
        try FileSystem.writeAtomically(Array("<h1>\(app.rawValue) \(version)</h1><p>\(body)</p>\n".utf8), to: "\(directory)/index.html")
        try FileSystem.writeAtomically(Array("{\"pages\":[\"pages/main\"],\"version\":\"\(version)\"}\n".utf8), to: "\(directory)/app.json")
        try FileSystem.writeAtomically(Array("Page({ data: { version: '\(version)' } })\n".utf8), to: "\(directory)/pages/main.js")
        if padding > 0 {
            var generator = SystemRandomNumberGenerator()
            let bytes = (0..<padding / 8).flatMap { _ in withUnsafeBytes(of: generator.next() as UInt64) { Array($0) } }
            try FileSystem.writeAtomically(bytes, to: "\(directory)/assets.bin")
        }
        return directory
    }
}

/// Completes once `ready()` is called; the daemon's readiness and the app's restart.
final class ReadySignal: LifecycleNotifier, Sendable {
    private let state = Mutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func ready() {
        let waiters = state.withLock { state in
            state.done = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async throws {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state in
                if !state.done { state.waiters.append(continuation) }
                return state.done
            }
            if done { continuation.resume() }
        }
    }

    func reloading() {}
    func stopping() {}
    func status(_ text: String) {}
}

func step(_ text: String) { say("\n\(text)") }

func say(_ text: String) {
    print(text)
    fflush(nil)
}

func now() -> Int64 { Int64(time(nil)) }

func readFile(_ path: String) throws -> String {
    var text = String(decoding: try FileSystem.readFile(path, limit: 1 << 20), as: UTF8.self)
    if text.hasSuffix("\n") { text.removeLast() }
    return text
}

func makeTemporaryDirectory() throws -> String {
    let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
    var template = Array("\(base)/miniupdate-demo.XXXXXX".utf8CString)
    guard let path = mkdtemp(&template) else { throw UpdateError(.io, "mkdtemp: \(String(cString: strerror(errno)))") }
    return String(cString: path)
}
