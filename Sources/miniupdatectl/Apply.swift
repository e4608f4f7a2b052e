import ArgumentParser
import MiniupdateClient
import MiniupdateCommandLine
import MiniupdateProtocol

struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply an app's staged update.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var target: AppArgument
    @OptionGroup var display: OutputOptions

    func run() async throws {
        let app = target.app.rawValue
        let result = try await connection.run("apply \(app)") { try await $0.call(Method.ApplyUpdate(app: app)) }
        if display.printJSONIfAsked(result) { return }
        display.say("\(result.app): now \(result.version)\(result.previousVersion.map { " (was \($0))" } ?? "")\(result.simulated == true ? " [simulated]" : "")")
    }
}

struct Rollback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Go back to an app's previous version.",
        discussion: "The version rolled back from is held back: it is not offered again until a newer one is published, or an admin installs it."
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var target: AppArgument
    @OptionGroup var display: OutputOptions

    func run() async throws {
        let app = target.app.rawValue
        let result = try await connection.run("rollback \(app)") { try await $0.call(Method.Rollback(app: app)) }
        if display.printJSONIfAsked(result) { return }
        display.say("\(result.app): rolled back to \(result.version)\(result.previousVersion.map { " from \($0), which is held back" } ?? "")")
    }
}
