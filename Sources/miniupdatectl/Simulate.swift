import ArgumentParser
import MiniupdateClient
import MiniupdateCommandLine
import MiniupdateProtocol

struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send an app's subscribers the events of a made-up update outcome, touching nothing on disk.",
        usage: "miniupdatectl simulate <app> (--ready | --failed | --no-update) [--socket <path>] [--json] [--quiet]",
        discussion: "The app must be installed. After --ready, applyUpdate of that app succeeds once with a simulated onUpdateApplied."
    )

    enum Outcome: String, EnumerableFlag {
        case ready, failed, noUpdate

        static func name(for value: Outcome) -> NameSpecification {
            value == .noUpdate ? .customLong("no-update") : .long
        }

        static func help(for value: Outcome) -> ArgumentHelp? {
            switch value {
            case .ready: "an update is found, downloads and is ready"
            case .failed: "an update is found and its download fails"
            case .noUpdate: "no update is found"
            }
        }
    }

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var target: AppArgument
    @Flag(help: "The outcome to simulate.")
    var outcome: Outcome
    @OptionGroup var display: OutputOptions

    func run() async throws {
        let app = target.app.rawValue
        let params = Method.Simulate(app: app, outcome: outcome == .ready ? .ready : outcome == .failed ? .failed : .noUpdate)
        _ = try await connection.run("simulate \(app) --\(params.outcome.rawValue)") { try await $0.call(params) }
        if display.printJSONIfAsked(["app": app, "simulated": params.outcome.rawValue]) { return }
        display.say("\(app): simulated \(params.outcome.rawValue)")
    }
}
