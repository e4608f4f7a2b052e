import ArgumentParser
import MiniupdateClient
import MiniupdateCommandLine
import MiniupdateCore
import MiniupdateProtocol

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the named apps, or all of them, for updates now.",
        discussion: "With --wait, waits until every update found is downloaded and staged, and exits 1 if one of them fails."
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var display: OutputOptions

    @Argument(help: ArgumentHelp("App ids; none means every installed app.", valueName: "APP"),
              completion: .custom(InstalledApps.complete), transform: ArgumentValue.appID)
    var apps: [AppID] = []

    @Flag(name: .long, help: "Wait for the downloads the check started; exit 1 if one fails.")
    var wait = false

    /// One app's check and, with --wait, what became of its download.
    struct Outcome: Encodable, Sendable {
        var app: String
        var hasUpdate: Bool
        var version: String?
        /// With --wait: `ready`, or `failed` with `error`.
        var download: String?
        var error: ErrorPayload?
    }

    func run() async throws {
        let apps = self.apps.map(\.rawValue)
        let wait = self.wait
        let command = (["check"] + apps).joined(separator: " ")
        let outcomes: [Outcome] = try await connection.run(command) { client in
            // Subscribed before the check, so that no event of its downloads is missed.
            if wait { for app in try await Self.appsToWatch(apps, client) { _ = try await client.call(Method.Subscribe(app: app)) } }
            var results: [CheckResultPayload] = []
            if apps.isEmpty {
                results = try await client.call(Method.CheckForUpdate()).outcomes
            } else {
                for app in apps { results += try await client.call(Method.CheckForUpdate(app: app)).outcomes }
            }
            var outcomes = results.map { Outcome(app: $0.app, hasUpdate: $0.hasUpdate, version: $0.version) }
            if wait { try await Self.waitForDownloads(&outcomes, client) }
            return outcomes
        }
        let failed = outcomes.filter { $0.download == "failed" }
        if !display.printJSONIfAsked(outcomes) {
            for outcome in outcomes { display.say(Self.describe(outcome)) }
        }
        if let first = failed.first, let error = first.error {
            // Reported after the whole list; with --json the list says it already.
            if display.json { throw ExitStatus.failure }
            throw CommandFailure("\(HumanText.count(failed.count, "download")) failed; \(first.app): \(error.message)", code: UpdateError.Code(rawValue: error.reason, number: error.code))
        }
    }

    static func describe(_ outcome: Outcome) -> String {
        guard outcome.hasUpdate else { return "\(outcome.app): up to date" }
        let version = outcome.version ?? "?"
        switch outcome.download {
        case "ready"?: return "\(outcome.app): update \(version) downloaded and ready to apply"
        case "failed"?: return "\(outcome.app): update \(version) failed: \(outcome.error?.message ?? "") [\(outcome.error?.reason ?? "")]"
        default: return "\(outcome.app): update available: \(version)"
        }
    }

    static func appsToWatch(_ apps: [String], _ client: DaemonClient) async throws -> [String] {
        apps.isEmpty ? try await client.call(Method.Status()).apps.map(\.app) : apps
    }

    /// Fills in each found update's download outcome, from the status (staged already) or
    /// from the events that follow.
    static func waitForDownloads(_ outcomes: inout [Outcome], _ client: DaemonClient) async throws {
        var pending: [String: Int] = [:]
        for (index, outcome) in outcomes.enumerated() where outcome.hasUpdate { pending[outcome.app] = index }
        guard !pending.isEmpty else { return }
        for app in try await client.call(Method.Status()).apps {
            guard let index = pending[app.app], app.stagedVersion != nil, app.stagedVersion == outcomes[index].version else { continue }
            outcomes[index].download = "ready"
            pending[app.app] = nil
        }
        for await notification in client.notifications {
            if pending.isEmpty { break }
            switch notification.event {
            case .updateReady(let event)? where event.replay != true:
                guard let index = pending[event.app], event.version == outcomes[index].version else { continue }
                outcomes[index].download = "ready"
                pending[event.app] = nil
            case .updateFailed(let event)? where event.replay != true:
                guard let index = pending[event.app] else { continue }
                outcomes[index].download = "failed"
                outcomes[index].error = event.error
                pending[event.app] = nil
            default:
                continue
            }
            if pending.isEmpty { break }
        }
        guard pending.isEmpty else { throw DaemonClientError.disconnected }
    }
}
