#if canImport(Glibc)
import Glibc
#endif

/// Named instants at which the process can be made to die, so that the crash-consistency
/// tests can SIGKILL it exactly between two steps of a multi-step change, not only at
/// random moments.
///
/// Armed by the environment: `MINIUPDATE_CRASH_POINT=<name>` makes the process send itself
/// SIGKILL the first time it reaches `<name>`. Unset (always, outside those tests), a point
/// costs one load of a constant. The names are listed in `docs/reliability.md`.
package enum CrashPoint {
    package static let environmentVariable = "MINIUPDATE_CRASH_POINT"

    private static let armed: String? = getenv(environmentVariable).map { String(cString: $0) }

    /// Dies here, at once and without clean-up, if this point is the armed one.
    package static func reach(_ name: StaticString) {
        guard let armed, armed == name.description else { return }
        kill(getpid(), SIGKILL)
        // SIGKILL to oneself is delivered before kill(2) returns; never go on past the point.
        while true { pause() }
    }
}
