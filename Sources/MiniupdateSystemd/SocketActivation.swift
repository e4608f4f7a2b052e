#if canImport(Glibc)
import Glibc
#endif
import CSystemd

/// Socket activation: the listening socket systemd passes (`LISTEN_FDS`), if any.
public enum SocketActivation {
    /// The one inherited listening Unix stream socket, or nil when not socket-activated.
    /// Throws when systemd passed something else, which is a unit misconfiguration.
    public static func inheritedSocket() throws -> CInt? {
        let count = sd_listen_fds(1)
        guard count != 0 else { return nil }
        guard count == 1 else {
            throw SocketActivationError(message: count < 0 ? "sd_listen_fds failed: \(String(cString: strerror(-count)))" : "expected one socket from systemd, got \(count)")
        }
        let descriptor = SD_LISTEN_FDS_START
        guard sd_is_socket_unix(descriptor, Int32(SOCK_STREAM.rawValue), 1, nil, 0) > 0 else {
            throw SocketActivationError(message: "the socket from systemd is not a listening Unix stream socket")
        }
        return descriptor
    }

    /// What systemd passed that is not one listening Unix stream socket, or why the passed
    /// descriptors could not be read.
    public struct SocketActivationError: Error, CustomStringConvertible {
        /// The problem, for the log and the administrator.
        public var message: String
        /// The ``message``.
        public var description: String { message }
    }
}
