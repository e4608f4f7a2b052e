/// An error from any layer of miniupdate, with a stable machine-readable ``Code``.
///
/// Clients match on ``code``; ``message`` is for people and may change between releases.
/// The style follows swift-service-lifecycle's `ServiceGroupError`: one struct, an
/// extensible set of codes, no enum that breaks callers when a case is added.
public struct UpdateError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable identifier for a kind of failure. Its ``rawValue`` appears on the wire,
    /// in state files and in logs, so existing values never change.
    public struct Code: Hashable, Sendable, CustomStringConvertible, Codable {
        public let rawValue: String

        public init(_ rawValue: String) { self.rawValue = rawValue }

        public init(from decoder: any Decoder) throws {
            self.rawValue = try decoder.singleValueContainer().decode(String.self)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(rawValue)
        }

        public var description: String { rawValue }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(message) [\(code)]" }
}

extension UpdateError.Code {
    // Input validation.
    public static let invalidAppID = Self("invalid-app-id")
    public static let invalidVersion = Self("invalid-version")
    public static let invalidArgument = Self("invalid-argument")

    // The signed index.
    public static let indexMalformed = Self("index-malformed")
    public static let signatureInvalid = Self("signature-invalid")
    public static let untrustedKey = Self("untrusted-key")
    public static let indexRollback = Self("index-rollback")
    public static let indexExpired = Self("index-expired")
    public static let indexTooLarge = Self("index-too-large")

    // Packages.
    public static let packageTooLarge = Self("package-too-large")
    public static let packageTruncated = Self("package-truncated")
    public static let digestMismatch = Self("digest-mismatch")

    // Archive contents.
    public static let archiveMalformed = Self("archive-malformed")
    public static let archiveUnsafePath = Self("archive-unsafe-path")
    public static let archiveUnsupportedEntry = Self("archive-unsupported-entry")
    public static let archiveLinkEscape = Self("archive-link-escape")
    public static let archiveTooLarge = Self("archive-too-large")
    public static let archiveTooManyFiles = Self("archive-too-many-files")

    // Transport.
    public static let repositoryUnreachable = Self("repository-unreachable")
    public static let httpStatus = Self("http-status")
    public static let timeout = Self("timeout")
    public static let transferTooSlow = Self("transfer-too-slow")
    public static let redirectRefused = Self("redirect-refused")
    public static let notFound = Self("not-found")

    // Local system.
    public static let noSpace = Self("no-space")
    public static let io = Self("io")
    public static let stateCorrupt = Self("state-corrupt")

    // Engine requests.
    public static let unknownApp = Self("unknown-app")
    public static let noUpdateReady = Self("no-update-ready")
    public static let noPreviousVersion = Self("no-previous-version")
    public static let versionNotNewer = Self("version-not-newer")
    public static let cancelled = Self("cancelled")
    public static let shuttingDown = Self("shutting-down")
}
