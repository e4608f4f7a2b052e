#if canImport(Glibc)
import Glibc
#endif

/// What Ctrl-C does to a command that started work the daemon goes on with: it says so,
/// in one line naming where to follow it, and exits 130, as `snap` does ("… continues in
/// the background").
public enum Interruption {
    /// The line the handler writes; set before the handler is installed and never freed,
    /// so that the handler only calls `write` and `_exit` (async-signal-safe).
    nonisolated(unsafe) private static var message: UnsafeMutablePointer<CChar>?
    nonisolated(unsafe) private static var length = 0

    /// From now on, SIGINT prints `line` on stderr and exits 130.
    public static func onInterrupt(say line: String) {
        let bytes = Array(("\n" + line + "\n").utf8CString)
        let copy = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count)
        copy.initialize(from: bytes, count: bytes.count)
        message = copy
        length = bytes.count - 1
        signal(SIGINT) { _ in
            if let message = Interruption.message { _ = write(2, message, Interruption.length) }
            _exit(130)
        }
    }
}
