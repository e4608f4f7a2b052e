import ArgumentParser
import MiniupdateClient
import MiniupdateCommandLine
import MiniupdateCore
import MiniupdateProtocol

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print one line per event as it arrives, until interrupted.")

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: ArgumentHelp("App ids; none means every installed app.", valueName: "APP"),
              completion: .custom(InstalledApps.complete), transform: ArgumentValue.appID)
    var apps: [AppID] = []

    @Flag(name: .long, help: "Print the raw notifications, one JSON object per line.")
    var json = false

    func run() async throws {
        let requested = apps.map(\.rawValue)
        let json = self.json
        let style = Style()
        try await connection.run((["watch"] + requested).joined(separator: " ")) { client in
            var apps = requested
            if apps.isEmpty {
                apps = try await client.call(Method.Status()).apps.map(\.app)
            }
            for app in apps {
                _ = try await client.call(Method.Subscribe(app: app))
            }
            for await notification in client.notifications {
                print(json ? String(decoding: notification.line, as: UTF8.self) : EventLine.describe(notification, style: style))
                flushStandardOutput()
            }
        }
    }
}

/// One human line per notification.
enum EventLine {
    static func describe(_ notification: DaemonNotification, style: Style = Style(enabled: false)) -> String {
        let time = HumanText.localTime(HumanText.currentTime())
        switch notification.event {
        case .checkForUpdate(let event)?:
            return "\(time) \(event.app): \(event.hasUpdate ? "update available \(event.version ?? "")" : "no update")"
        case .downloadProgress(let event)?:
            return "\(time) \(event.app): downloading \(event.version) \(event.total > 0 ? event.bytes * 100 / event.total : 0)% (\(HumanText.bytes(event.bytes)) of \(HumanText.bytes(event.total)))"
        case .updateReady(let event)?:
            return "\(time) \(event.app): " + style.green("update ready \(event.version)")
        case .updateFailed(let event)?:
            return "\(time) \(event.app): " + style.red("update failed\(event.version.map { " \($0)" } ?? ""): \(event.error.message) [\(event.error.reason)]")
        case .updateApplied(let event)?:
            return "\(time) \(event.app): now \(event.version)\(event.previousVersion.map { " (was \($0))" } ?? "")\(event.simulated == true ? " [simulated]" : "")"
        case .daemonStopping?:
            return "\(time) miniupdated is stopping"
        case nil:
            return "\(time) \(notification.method)"
        }
    }
}
