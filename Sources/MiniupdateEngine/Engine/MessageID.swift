/// Stable 128-bit ids of the log messages an admin searches for, attached as the
/// `message-id` metadata; the journal handler turns them into `MESSAGE_ID=` so that
/// `journalctl MESSAGE_ID=<id>` lists every occurrence. They never change.
public enum MessageID {
    /// An update was downloaded, verified and staged.
    public static let updateReady = "3f8a5c1e9b2d4e7fa0c6d8b1e4f2a937"
    /// A download, its verification or staging failed, or an index fetch failed.
    public static let updateFailed = "9c2e7b4a1d6f48e3b5a0c7d9e2f1b846"
    /// `current` switched to a new version: an applied update or an install.
    public static let updateApplied = "5b1d9f3e7a2c4b68c0e4a6d8f1b3c529"
    /// An app was rolled back to its previous version.
    public static let rollback = "e7a3c5b9d1f2468a9c0e2b4d6f8a1c73"
    /// A reload (SIGHUP) refused a new configuration; the daemon runs with the old one.
    public static let reloadRejected = "c61917e1d9f843adbc1fa1c60bafcdd8"
}
