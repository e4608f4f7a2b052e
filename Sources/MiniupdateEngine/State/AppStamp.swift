#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MiniupdateCore
import MiniupdateRepository

/// A fingerprint of the inode number and change time (seconds and nanoseconds) of an
/// app's directory, its `versions/` and its `state.json` (zeros for a missing `versions/`
/// or state file; an app whose directory is missing has no stamp), or of one directory.
/// Every way the engine changes an app renames something into one of the two directories
/// or rewrites the state file, and the change time cannot be set back from user space. It
/// is one FNV-1a hash rather than the nine numbers, which would triple what a start-up
/// decodes; it detects change, it does not resist an attacker (one who can write the
/// state directory needs no collision).
struct AppStamp: Codable, Sendable, Equatable {
    var value: UInt64

    /// The stamp of `app` as it is now, nil if its directory is missing; `appsDirectory`
    /// is an open descriptor of the apps directory, which keeps each lookup to two path
    /// components.
    init?(of app: AppID, inAppsDirectory appsDirectory: CInt) {
        var hash = Self.seed
        let name = app.rawValue
        for (index, path) in [name, "\(name)/versions", "\(name)/state.json"].enumerated() {
            var facts = stat()
            if fstatat(appsDirectory, path, &facts, AT_SYMLINK_NOFOLLOW) == 0 {
                Self.mix(facts, into: &hash)
            } else if index == 0 {
                return nil
            } else {
                Self.mix(stat(), into: &hash)
            }
        }
        value = hash
    }

    /// The stamp of the open directory `descriptor` itself: it changes whenever an entry
    /// is added to, removed from or renamed in that directory.
    init?(ofDirectory descriptor: CInt) {
        var facts = stat()
        guard fstat(descriptor, &facts) == 0 else { return nil }
        var hash = Self.seed
        Self.mix(facts, into: &hash)
        value = hash
    }

    private static let seed: UInt64 = 0xcbf2_9ce4_8422_2325

    private static func mix(_ facts: stat, into hash: inout UInt64) {
        for number in [Int64(facts.st_ino), Int64(facts.st_ctim.tv_sec), Int64(facts.st_ctim.tv_nsec)] {
            var bits = UInt64(bitPattern: number)
            for _ in 0..<8 {
                hash = (hash ^ (bits & 0xff)) &* 0x0000_0100_0000_01b3
                bits >>= 8
            }
        }
    }

    init(from decoder: any Decoder) throws {
        value = try decoder.singleValueContainer().decode(UInt64.self)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
