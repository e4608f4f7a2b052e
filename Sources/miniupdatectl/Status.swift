import ArgumentParser
import MiniupdateClient
import MiniupdateCommandLine
import MiniupdateProtocol

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the daemon and every installed app.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var display: OutputOptions

    func run() async throws {
        let status = try await connection.run("status") { try await $0.call(Method.Status()) }
        if display.printJSONIfAsked(status) { return }
        guard !display.quiet else { return }
        for line in Self.describe(status, now: HumanText.currentTime(), style: Style()) { print(line) }
    }

    /// The status for people: the daemon, then a table of the apps.
    static func describe(_ status: StatusResult, now: Int64, style: Style) -> [String] {
        let daemon = status.daemon
        var lines = ["miniupdated \(daemon.version), repository \(daemon.repository.isEmpty ? "(none)" : daemon.repository)"]
        if let reloadError = daemon.reloadError {
            lines.append(style.red("reload rejected, running the previous configuration: \(reloadError.message) [\(reloadError.reason)]"))
        }
        var index = "index serial \(daemon.serial.map(String.init) ?? "none")"
        if let expires = daemon.indexExpires {
            index += expires <= now ? ", " + style.red("expired \(HumanText.relative(expires, now: now))") : ", expires \(HumanText.relative(expires, now: now))"
        }
        index += ", last check \(daemon.lastCheck.map { HumanText.relative($0, now: now) } ?? "never")"
        if let error = daemon.lastError { index += ", " + style.red("last error: \(error.message) [\(error.reason)]") }
        lines.append(index)
        let counts = daemon.counts
        var summary = [HumanText.count(counts.apps, "app"), "\(HumanText.count(counts.updatesReady, "update")) ready"]
        if counts.downloading > 0 { summary.append("\(counts.downloading) downloading") }
        if counts.failed > 0 { summary.append(style.red("\(counts.failed) failed")) }
        summary.append(HumanText.count(counts.clients, "client"))
        lines.append(summary.joined(separator: ", "))
        guard !status.apps.isEmpty else { return lines }
        lines.append("")
        let rows = status.apps.map { app -> [String] in
            [app.app, app.development ? "(development)" : app.installedVersion ?? "-", app.stagedVersion ?? app.availableVersion ?? "-",
             app.state, app.lastCheck.map { HumanText.relative($0, now: now) } ?? "never", detail(of: app)]
        }
        lines += TextTable.lines(["APP", "INSTALLED", "AVAILABLE", "STATE", "LAST CHECK", "DETAIL"], rows)
        return lines
    }

    static func detail(of app: AppStatusPayload) -> String {
        var parts: [String] = []
        if let progress = app.progress, progress.total > 0 {
            parts.append("\(progress.bytes * 100 / progress.total)% of \(HumanText.bytes(progress.total))")
        } else if let error = app.lastError {
            parts.append("\(error.message) [\(error.reason)]")
        }
        if let held = app.heldBackVersion { parts.append("held back: \(held) (rolled back; offered again once a newer version is published)") }
        if let previous = app.previousVersion { parts.append("previous \(previous)") }
        return parts.joined(separator: "; ")
    }
}
