import MiniupdateCore
import MiniupdateRepository
import Synchronization

/// Something that happened to one app, in the order it happened.
public struct EngineEvent: Sendable, Equatable {
    /// What happened.
    public enum Kind: Sendable, Equatable {
        /// A check finished. `version` is the version on offer when `hasUpdate` is true.
        case checked(hasUpdate: Bool, version: Version?)
        /// Bytes of `version` downloaded so far, at most about four times a second.
        case progress(version: Version, bytes: Int64, total: Int64)
        /// `version` is verified and staged; applying it is instant.
        case ready(version: Version)
        /// A check, download or staging failed. `version` is the one being fetched, if any.
        case failed(version: Version?, error: UpdateError)
        /// `current` now points at `version`; `previous` is what it pointed at, if anything.
        case applied(version: Version, previous: Version?)
        /// An admin went back from `from` to `version`.
        case rolledBack(version: Version, from: Version)
    }

    /// The app it happened to.
    public var app: AppID
    /// What happened.
    public var kind: Kind
    /// Made up by ``UpdateEngine/simulate(_:_:)``: nothing changed on disk, and listeners
    /// who come later are not told of it.
    public var simulated: Bool

    /// An event; it is real (not ``simulated``) unless said otherwise.
    public init(app: AppID, kind: Kind, simulated: Bool = false) {
        self.app = app
        self.kind = kind
        self.simulated = simulated
    }
}
