/// The one table of miniupdate's error codes: each code's name, its JSON-RPC number and,
/// in its comment, what it means. `docs/errors.md` and `docs/protocol.md` list the same
/// table, and `ErrorTableTests` keeps the three in step. Numbers never change meaning; a new code
/// takes a new number.
extension UpdateError.Code {
    // Requests the daemon refuses (1000s).
    /// The app is not installed, or not in the repository.
    public static let unknownApp = Self("unknown-app", 1001)
    /// `applyUpdate` before an update is staged.
    public static let noUpdateReady = Self("no-update-ready", 1002)
    /// The caller may not use this method.
    public static let notPermitted = Self("not-permitted", 1003)
    /// Too many requests in flight on one connection.
    public static let busy = Self("busy", 1004)
    /// `rollback` with no previous version kept.
    public static let noPreviousVersion = Self("no-previous-version", 1005)
    /// The engine is stopping; the work resumes at the next start.
    public static let shuttingDown = Self("shutting-down", 1006)
    /// The operation was cancelled.
    public static let cancelled = Self("cancelled", 1007)
    /// Not `^[a-z0-9][a-z0-9._-]{0,127}$`, or contains `..`.
    public static let invalidAppID = Self("invalid-app-id", 1008)
    /// A bad flag, path, key file, configuration value or request member.
    public static let invalidArgument = Self("invalid-argument", 1009)
    /// Not a semantic version of at most 64 characters.
    public static let invalidVersion = Self("invalid-version", 1010)
    /// A publish of a version not higher than the latest.
    public static let versionNotNewer = Self("version-not-newer", 1011)
    /// A connection already subscribes to `max-subscriptions` apps.
    public static let tooManySubscriptions = Self("too-many-subscriptions", 1012)
    /// Another process holds the state or cache directory (a second daemon on them).
    public static let inUse = Self("in-use", 1013)
    /// The key does not sign the repository's current index.
    public static let keyMismatch = Self("key-mismatch", 1014)

    // The repository and verification (2000s).
    /// The signed index breaks the format's rules.
    public static let indexMalformed = Self("index-malformed", 2001)
    /// A signature by a trusted key does not verify.
    public static let signatureInvalid = Self("signature-invalid", 2002)
    /// No signature is by a trusted key.
    public static let untrustedKey = Self("untrusted-key", 2003)
    /// The index's serial is lower than one already accepted, or equal with other content.
    public static let indexRollback = Self("index-rollback", 2004)
    /// The index's expiry time has passed.
    public static let indexExpired = Self("index-expired", 2005)
    /// The index exceeds the size limit.
    public static let indexTooLarge = Self("index-too-large", 2006)
    /// The package exceeds its declared size or the size limit.
    public static let packageTooLarge = Self("package-too-large", 2010)
    /// The server sent less than the declared size.
    public static let packageTruncated = Self("package-truncated", 2011)
    /// The package's SHA-256 is not the declared one.
    public static let digestMismatch = Self("digest-mismatch", 2012)
    /// The package is not a readable tar archive, or repeats an entry.
    public static let archiveMalformed = Self("archive-malformed", 2020)
    /// An entry has an absolute path or a `..` component.
    public static let archiveUnsafePath = Self("archive-unsafe-path", 2021)
    /// An entry is a device node, FIFO or socket.
    public static let archiveUnsupportedEntry = Self("archive-unsupported-entry", 2022)
    /// A link leads outside the app's tree, or an entry goes through a symlink.
    public static let archiveLinkEscape = Self("archive-link-escape", 2023)
    /// The package unpacks to more bytes than declared or allowed.
    public static let archiveTooLarge = Self("archive-too-large", 2024)
    /// The package has more entries than declared or allowed.
    public static let archiveTooManyFiles = Self("archive-too-many-files", 2025)
    /// The connection failed or closed early.
    public static let repositoryUnreachable = Self("repository-unreachable", 2030)
    /// The server answered with an unexpected HTTP status.
    public static let httpStatus = Self("http-status", 2031)
    /// No connection in time, no data for the idle timeout, or the transfer took too long.
    public static let timeout = Self("timeout", 2032)
    /// The transfer stayed below the low-speed limit for the whole window.
    public static let transferTooSlow = Self("transfer-too-slow", 2033)
    /// Too many redirects, a redirect loop, or a redirect to another scheme.
    public static let redirectRefused = Self("redirect-refused", 2034)
    /// The index or a package does not exist (HTTP 404/410, or no such file).
    public static let notFound = Self("not-found", 2035)

    // The local system (3000s).
    /// The disk is full (`ENOSPC`, `EDQUOT`); the space taken was given back.
    public static let noSpace = Self("no-space", 3001)
    /// Another local I/O error.
    public static let io = Self("io", 3002)
    /// A state file does not parse (it is rebuilt from the filesystem).
    public static let stateCorrupt = Self("state-corrupt", 3003)
    /// Only in the events of a `simulate`d failure.
    public static let simulated = Self("simulated", 3100)

    /// Every code above, in number order.
    public static let all: [Self] = [
        .unknownApp, .noUpdateReady, .notPermitted, .busy, .noPreviousVersion, .shuttingDown, .cancelled,
        .invalidAppID, .invalidArgument, .invalidVersion, .versionNotNewer, .tooManySubscriptions, .inUse, .keyMismatch,
        .indexMalformed, .signatureInvalid, .untrustedKey, .indexRollback, .indexExpired, .indexTooLarge,
        .packageTooLarge, .packageTruncated, .digestMismatch,
        .archiveMalformed, .archiveUnsafePath, .archiveUnsupportedEntry, .archiveLinkEscape, .archiveTooLarge, .archiveTooManyFiles,
        .repositoryUnreachable, .httpStatus, .timeout, .transferTooSlow, .redirectRefused, .notFound,
        .noSpace, .io, .stateCorrupt, .simulated,
    ]
}
