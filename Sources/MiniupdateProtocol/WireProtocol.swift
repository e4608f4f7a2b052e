/// Wire protocol v1: JSON-RPC 2.0 over a stream Unix socket, one message per line.
/// See `docs/protocol.md`, which is the normative description.
///
/// The protocol's vocabulary is typed: each method is a type conforming to ``RPCMethod``
/// (its params are the type's members, its result ``RPCMethod/Result``), a request decodes
/// into one ``ClientRequest``, and each notification into one ``DaemonEvent``.
public enum WireProtocol {
    /// The default socket path; `MINIUPDATE_SOCKET` overrides it for daemon and clients.
    public static let defaultSocketPath = "/run/miniupdate/miniupdate.sock"
    /// The environment variable that names the socket for the daemon and its clients.
    public static let socketEnvironmentVariable = "MINIUPDATE_SOCKET"
    /// The longest request line, in bytes and newline excluded, that the daemon accepts by
    /// default: 1 MiB, as `docs/protocol.md` fixes it. A longer line gets `invalid request` with `"id": null`,
    /// and its connection is closed. Lines from the daemon may be longer (a large `status`).
    public static let maximumLineLength = 1 << 20
}
