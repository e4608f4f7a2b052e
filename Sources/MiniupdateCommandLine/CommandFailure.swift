import ArgumentParser
import MiniupdateCore

/// A failure a command reports and exits with: a message for people, a stable code for
/// programs (`reason` and `code` in `--json` output), what to do about it, and the exit
/// status.
public struct CommandFailure: Error, Sendable, CustomStringConvertible {
    /// What went wrong, for people: printed after `tool: error:`, or as `message` in JSON.
    public var message: String
    /// miniupdate's error code, such as `no-update-ready`, or for failures of the command
    /// line itself `usage`, `daemon-unreachable`, `permission-denied`, `configuration` or
    /// `failed`.
    public var reason: String
    /// The number of `reason`: its JSON-RPC code, or for the command line's own the exit status.
    public var code: Int
    /// The fix, when there is one to name: `systemctl start miniupdated.socket`.
    public var hint: String?
    /// The status the command exits with (see ``ExitStatus``).
    public var exitCode: ExitCode

    /// A failure of the command line itself. `reason` defaults to the one `exitCode`
    /// stands for (`usage`, `daemon-unreachable`, `permission-denied`, `configuration`,
    /// or `failed` for any other status), and ``code`` is the exit status.
    public init(_ message: String, reason: String? = nil, hint: String? = nil, exitCode: ExitCode = ExitStatus.failure) {
        self.message = message
        self.reason = reason ?? Self.reason(of: exitCode)
        self.code = Int(exitCode.rawValue)
        self.hint = hint
        self.exitCode = exitCode
    }

    /// A failure with one of miniupdate's error codes.
    public init(_ message: String, code: UpdateError.Code, hint: String? = nil, exitCode: ExitCode? = nil) {
        self.message = message
        self.reason = code.rawValue
        self.code = code.number
        self.hint = hint
        self.exitCode = exitCode ?? Self.exitCode(for: code)
    }

    /// An `UpdateError`, with the exit status its code calls for.
    public init(_ error: UpdateError, hint: String? = nil) {
        self.init(error.message, code: error.code, hint: hint)
    }

    /// What an error of `code` exits with: 64 for input that is not valid, 77 for
    /// `not-permitted`, 1 otherwise.
    public static func exitCode(for code: UpdateError.Code) -> ExitCode {
        switch code {
        case .invalidAppID, .invalidVersion: ExitStatus.usage
        case .notPermitted: ExitStatus.noPermission
        default: ExitStatus.failure
        }
    }

    static func reason(of exitCode: ExitCode) -> String {
        switch exitCode {
        case ExitStatus.usage: "usage"
        case ExitStatus.unavailable: "daemon-unreachable"
        case ExitStatus.noPermission: "permission-denied"
        case ExitStatus.configuration: "configuration"
        default: "failed"
        }
    }

    /// `message [reason]`, then the hint on a line of its own when there is one.
    public var description: String { "\(message) [\(reason)]\(hint.map { "\n\($0)" } ?? "")" }
}
