import ArgumentParser
import MiniupdateCore

#if canImport(Glibc)
import Glibc
#endif

/// The one `main` of miniupdate's commands: the conventions of systemctl, snap and apt.
///
/// - A mistyped command gets a suggestion (`did you mean 'status'?`) and exit 64.
/// - Global options may come before the command as well as after it
///   (`miniupdatectl --socket PATH status`).
/// - A failure is one line on stderr, `tool: error: message [reason]`, and a line naming
///   the fix when there is one; with `--json`, the same as a JSON object on stdout and
///   nothing on stderr.
/// - The exit status says what kind of failure it was (``ExitStatus``).
public enum CommandLineTool {
    /// Parses the command line, runs the command, reports a failure, and exits.
    public static func main<Root: ParsableCommand>(_ root: Root.Type, arguments: [String] = Array(CommandLine.arguments.dropFirst()),
                                                   globalOptions: Set<String> = []) async -> Never {
        let names = Root.configuration.subcommands.map { $0._commandName }
        let arguments = hoist(globalOptions, in: arguments, before: Set(names))
        let json = arguments.contains("--json")
        let tool = Root._commandName
        do {
            // The command comes first (global options have been moved after it); a first
            // word that is an option (`--version`, `--generate-completion-script bash`)
            // is ArgumentParser's to read.
            if let word = arguments.first, !word.hasPrefix("-"), !names.isEmpty, !names.contains(word), word != "help" {
                throw CommandFailure(
                    "unknown command '\(word)'", hint: Suggestion.closest(to: word, in: names).map { "did you mean '\($0)'? See '\(tool) --help'." } ?? "see '\(tool) --help'",
                    exitCode: ExitStatus.usage
                )
            }
            // The asynchronous parse runs asynchronous shell completions (the installed apps).
            var command = if let asyncRoot = Root.self as? any AsyncParsableCommand.Type {
                try await asyncRoot.asyncParseAsRoot(arguments)
            } else {
                try Root.parseAsRoot(arguments)
            }
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            exit(0)
        } catch let failure as CommandFailure {
            report(failure, tool: tool, json: json)
        } catch let error as UpdateError {
            report(CommandFailure(error), tool: tool, json: json)
        } catch {
            let code = Root.exitCode(for: error)
            // Help and --version are not failures; ExitCode carries a status already reported.
            if json, code != .success, !(error is ExitCode) {
                report(CommandFailure(Root.message(for: error), exitCode: code), tool: tool, json: true)
            }
            Root.exit(withError: error)
        }
    }

    /// Prints `failure` as the conventions above say, and exits with its status.
    public static func report(_ failure: CommandFailure, tool: String, json: Bool) -> Never {
        if json {
            JSONOutput.print(JSONOutput.Failure(error: .init(code: failure.code, reason: failure.reason, message: failure.message, hint: failure.hint)))
            fflush(nil)
        } else {
            let style = Style(enabled: Terminal.usesColour(fd: 2))
            // The reason is shown when it is one of miniupdate's codes, which people search for.
            let shown = ["usage", "daemon-unreachable", "permission-denied", "configuration", "failed"].contains(failure.reason) ? "" : " [\(failure.reason)]"
            Terminal.writeError("\(tool): \(style.red("error")): \(failure.message)\(shown)\n")
            if let hint = failure.hint { Terminal.writeError("\(tool): \(hint)\n") }
        }
        exit(failure.exitCode.rawValue)
    }

    /// Moves the `globalOptions` (and their values) found before the first of `commands`
    /// to after it, where ArgumentParser reads a subcommand's options.
    package static func hoist(_ globalOptions: Set<String>, in arguments: [String], before commands: Set<String>) -> [String] {
        guard !globalOptions.isEmpty, let commandIndex = arguments.firstIndex(where: commands.contains) else { return arguments }
        var moved: [String] = []
        var kept: [String] = []
        var index = 0
        while index < commandIndex {
            let argument = arguments[index]
            let name = String(argument.prefix { $0 != "=" })
            if globalOptions.contains(name) {
                moved.append(argument)
                if !argument.contains("="), index + 1 < commandIndex {
                    moved.append(arguments[index + 1])
                    index += 1
                }
            } else {
                kept.append(argument)
            }
            index += 1
        }
        return kept + arguments[commandIndex...] + moved
    }
}
