import ArgumentParser
import Glibc
import MiniupdateClient
import MiniupdateProtocol

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the daemon and every installed app.")

    @OptionGroup var connection: ConnectionOptions
    @Flag(name: .long, help: "Print the raw status result as JSON.")
    var json = false

    func run() async throws {
        let status = try await connection.run { try await $0.call(Method.Status()) }
        if json {
            printJSON(status)
            return
        }
        let daemon = status.daemon
        print("miniupdated \(daemon.version), repository \(daemon.repository.isEmpty ? "(none)" : daemon.repository)")
        print("index serial \(daemon.serial.map(String.init) ?? "none"), last check \(formatTime(daemon.lastCheck))\(daemon.lastError.map { ", last error: \($0.message) [\($0.reason)]" } ?? "")")
        print("\(daemon.counts.apps) apps, \(daemon.counts.updatesReady) updates ready, \(daemon.counts.downloading) downloading, \(daemon.counts.failed) failed, \(daemon.counts.clients) clients")
        guard !status.apps.isEmpty else { return }
        print("")
        printTable(["APP", "INSTALLED", "AVAILABLE", "STATE", "LAST CHECK", "DETAIL"], status.apps.map { app in
            var detail = ""
            if let progress = app.progress, progress.total > 0 {
                detail = "\(progress.bytes * 100 / progress.total)% of \(progress.total) bytes"
            } else if let error = app.lastError {
                detail = "\(error.message) [\(error.reason)]"
            }
            return [app.app, app.development ? "(development)" : app.installedVersion ?? "-", app.stagedVersion ?? app.availableVersion ?? "-", app.state, formatTime(app.lastCheck), detail]
        })
    }
}

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check the named apps, or all of them, for updates now.")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp("App ids; none means every installed app.", valueName: "APP"))
    var apps: [String] = []

    func run() async throws {
        let apps = self.apps
        let results: [CheckResultPayload] = try await connection.run { client in
            if apps.isEmpty {
                return try await client.call(Method.CheckForUpdate()).outcomes
            }
            var results: [CheckResultPayload] = []
            for app in apps {
                results += try await client.call(Method.CheckForUpdate(app: app)).outcomes
            }
            return results
        }
        for result in results {
            print("\(result.app): \(result.hasUpdate ? "update available: \(result.version ?? "?")" : "up to date")")
        }
    }
}

struct Install: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Install an app's latest version from the repository (or update to it).")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp("The app id.", valueName: "APP"))
    var app: String

    func run() async throws {
        let app = self.app
        let result: ApplyResultPayload = try await connection.run { client in
            _ = try await client.call(Method.Subscribe(app: app))
            return try await withThrowingTaskGroup(of: ApplyResultPayload?.self) { group in
                if standardOutputIsTerminal {
                    group.addTask {
                        for await notification in client.notifications {
                            guard case .downloadProgress(let progress)? = notification.event, progress.app == app, progress.total > 0 else { continue }
                            ProgressBar.draw(label: "\(app) \(progress.version)", done: progress.bytes, total: progress.total)
                        }
                        return nil
                    }
                }
                group.addTask { try await client.call(Method.Install(app: app)) }
                defer { group.cancelAll() }
                while let next = try await group.next() {
                    if let result = next { return result }
                }
                throw DaemonClientError.disconnected
            }
        }
        if standardOutputIsTerminal { ProgressBar.finish() }
        if let previous = result.previousVersion {
            print("\(result.app): updated from \(previous) to \(result.version)")
        } else {
            print("\(result.app): \(result.version) installed")
        }
    }
}

enum ProgressBar {
    static func draw(label: String, done: Int64, total: Int64) {
        let width = 30
        let filled = Int(done * Int64(width) / max(total, 1))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        print("\r\(label) [\(bar)] \(done * 100 / max(total, 1))%", terminator: "")
        fflushStandardOutput()
    }

    static func finish() { print("\r\u{1B}[K", terminator: "") }
}

struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply an app's staged update.")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp("The app id.", valueName: "APP"))
    var app: String

    func run() async throws {
        let app = self.app
        let result = try await connection.run { try await $0.call(Method.ApplyUpdate(app: app)) }
        print("\(result.app): now \(result.version)\(result.previousVersion.map { " (was \($0))" } ?? "")\(result.simulated == true ? " [simulated]" : "")")
    }
}

struct Rollback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Go back to an app's previous version.")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp("The app id.", valueName: "APP"))
    var app: String

    func run() async throws {
        let app = self.app
        let result = try await connection.run { try await $0.call(Method.Rollback(app: app)) }
        print("\(result.app): rolled back to \(result.version)\(result.previousVersion.map { " from \($0)" } ?? "")")
    }
}

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print one line per event as it arrives, until interrupted.")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp("App ids; none means every installed app.", valueName: "APP"))
    var apps: [String] = []
    @Flag(name: .long, help: "Print the raw notifications, one JSON object per line.")
    var json = false

    func run() async throws {
        let requested = apps
        let json = self.json
        try await connection.run { client in
            var apps = requested
            if apps.isEmpty {
                apps = try await client.call(Method.Status()).apps.map(\.app)
            }
            for app in apps {
                _ = try await client.call(Method.Subscribe(app: app))
            }
            for await notification in client.notifications {
                if json {
                    print(String(decoding: notification.line, as: UTF8.self))
                } else {
                    print(EventLine.describe(notification))
                }
                fflushStandardOutput()
            }
        }
    }
}

struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send an app's subscribers the events of a made-up update outcome, touching nothing on disk.",
        discussion: "After --ready, applyUpdate of that app succeeds once with a simulated onUpdateApplied."
    )

    enum Outcome: String, EnumerableFlag {
        case ready, failed, noUpdate

        static func name(for value: Outcome) -> NameSpecification {
            value == .noUpdate ? .customLong("no-update") : .long
        }
    }

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp("The app id.", valueName: "APP"))
    var app: String
    @Flag(help: "The outcome to simulate.")
    var outcome: Outcome

    func run() async throws {
        let params = Method.Simulate(app: app, outcome: outcome == .ready ? .ready : outcome == .failed ? .failed : .noUpdate)
        _ = try await connection.run { try await $0.call(params) }
        print("\(app): simulated \(params.outcome.rawValue)")
    }
}

/// One human line per notification.
enum EventLine {
    static func describe(_ notification: DaemonNotification) -> String {
        let time = formatTime(Int64(Glibc.time(nil)))
        switch notification.event {
        case .checkForUpdate(let event)?:
            return "\(time) \(event.app): \(event.hasUpdate ? "update available \(event.version ?? "")" : "no update")"
        case .downloadProgress(let event)?:
            return "\(time) \(event.app): downloading \(event.version) \(event.total > 0 ? event.bytes * 100 / event.total : 0)% (\(event.bytes)/\(event.total))"
        case .updateReady(let event)?:
            return "\(time) \(event.app): update ready \(event.version)"
        case .updateFailed(let event)?:
            return "\(time) \(event.app): update failed\(event.version.map { " \($0)" } ?? ""): \(event.error.message) [\(event.error.reason)]"
        case .updateApplied(let event)?:
            return "\(time) \(event.app): now \(event.version)\(event.previousVersion.map { " (was \($0))" } ?? "")"
        case .daemonStopping?:
            return "\(time) miniupdated is stopping"
        case nil:
            return "\(time) \(notification.method)"
        }
    }
}
