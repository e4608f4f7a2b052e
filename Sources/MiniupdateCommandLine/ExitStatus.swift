import ArgumentParser

/// The exit statuses of miniupdate's commands, from `sysexits.h` where one fits, the same
/// in all three (`miniupdatectl`, `miniupdate-repo`, `miniupdated`).
public enum ExitStatus {
    /// Refused or failed; the reason is on stderr (or in the JSON).
    public static let failure = ExitCode(1)
    /// A usage error: an unknown command or flag, a bad app id, version or duration.
    public static let usage = ExitCode.validationFailure  // 64, EX_USAGE
    /// The daemon cannot be reached (EX_UNAVAILABLE).
    public static let unavailable = ExitCode(69)
    /// The caller may not do this: the socket's permissions, or `not-permitted` (EX_NOPERM).
    public static let noPermission = ExitCode(77)
    /// The configuration is wrong (EX_CONFIG).
    public static let configuration = ExitCode(78)
    /// Interrupted by SIGINT (128 + 2), as shells report it.
    public static let interrupted = ExitCode(130)
}
