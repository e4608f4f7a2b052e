import ArgumentParser
import MiniupdateClient
import MiniupdateCommandLine
import MiniupdateProtocol

struct Install: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Install an app's latest version from the repository (or update to it).",
        discussion: "Ctrl-C stops waiting, not the install: the daemon finishes it in the background (see miniupdatectl watch APP)."
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var target: AppArgument
    @OptionGroup var display: OutputOptions

    func run() async throws {
        let app = target.app.rawValue
        let showsProgress = Terminal.standardOutputIsTerminal && !display.json && !display.quiet
        let result: ApplyResultPayload = try await connection.run("install \(app)") { client in
            if showsProgress { _ = try await client.call(Method.Subscribe(app: app)) }
            return try await withThrowingTaskGroup(of: ApplyResultPayload?.self) { group in
                if showsProgress {
                    group.addTask {
                        var bar = ProgressBar(label: app)
                        for await notification in client.notifications {
                            guard case .downloadProgress(let progress)? = notification.event, progress.app == app, progress.total > 0 else { continue }
                            bar.draw(version: progress.version, done: progress.bytes, total: progress.total)
                        }
                        return nil
                    }
                }
                group.addTask {
                    // From here on the daemon installs whatever this process does.
                    Interruption.onInterrupt(say: "miniupdatectl: interrupted; the install of \(app) continues in the background; see 'miniupdatectl watch \(app)' or 'miniupdatectl status'")
                    return try await client.call(Method.Install(app: app))
                }
                defer { group.cancelAll() }
                while let next = try await group.next() {
                    if let result = next { return result }
                }
                throw DaemonClientError.disconnected
            }
        }
        if showsProgress { ProgressBar.clear() }
        if display.printJSONIfAsked(result) { return }
        if let previous = result.previousVersion {
            display.say("\(result.app): updated from \(previous) to \(result.version)")
        } else {
            display.say("\(result.app): \(result.version) installed")
        }
    }
}
