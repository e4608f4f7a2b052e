import MiniupdateCore

/// Limits on what unpacking one package may create.
public struct ExtractionLimits: Sendable, Equatable {
    /// The most bytes of regular-file data.
    public var maximumBytes: Int64
    /// The most entries: files, directories and links.
    public var maximumEntries: Int

    /// Limits of `maximumBytes` bytes and `maximumEntries` entries; the defaults, 4 GiB and
    /// 20,000, are the clients' (`max-unpacked-size`, `max-files`).
    public init(maximumBytes: Int64 = 4 << 30, maximumEntries: Int = 20_000) {
        self.maximumBytes = maximumBytes
        self.maximumEntries = maximumEntries
    }

    /// Refuses `release` of `app` when its signed declaration already exceeds these limits:
    /// a client then refuses it before downloading a byte, rather than after unpacking up
    /// to the limit, and a publisher learns that clients will refuse it. (The extractor
    /// still holds the archive itself to both.)
    public func admit(_ release: Release, of app: AppID) throws {
        guard release.installedSize <= maximumBytes else {
            throw UpdateError(.archiveTooLarge, "\(app) \(release.version) unpacks to \(release.installedSize) bytes, over the limit of \(maximumBytes)")
        }
        guard release.files <= maximumEntries else {
            throw UpdateError(.archiveTooManyFiles, "\(app) \(release.version) has \(release.files) entries, over the limit of \(maximumEntries)")
        }
    }
}
