#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import FoundationEssentials
import Logging
import MiniupdateCore
import MiniupdateRepository

/// `<state>/snapshot.json`: every app's record as the engine held it when it stopped
/// cleanly, so that the next start need not read and repair each app's directory (with
/// 10,000 apps, most of the start-up time) nor decode the cached index before serving.
///
/// It is a cache, never the truth. It is read and deleted at start-up, before anything
/// changes, so it exists only between a clean stop and the next start; a crash leaves
/// none. An entry stands only while its app's directory, `versions/` and `state.json`
/// keep the identity and change time they had when it was written (see ``AppStamp``), so
/// an app changed by hand while the daemon was stopped is read from disk as usual. The
/// whole snapshot is ignored if the repository state or the trusted keys differ.
struct StateSnapshot: Sendable {
    static let currentFormat = 1
    /// Entries per chunk: each chunk is decoded on its own, in parallel with the others.
    static let chunkSize = 512

    /// The first line of the file.
    struct Header: Codable, Sendable {
        var format = StateSnapshot.currentFormat
        /// `repository.json` as it was: the offered versions in the entries were computed
        /// from the index it accepted.
        var repository: PersistedRepositoryState
        /// The key ids the cached index was verified with.
        var trustedKeys: [String]
        /// When the cached index expires, for the status until the index is decoded again.
        var indexExpires: Int64?
        /// The apps directory's own stamp: while it matches, no app directory was added,
        /// removed or renamed, and the entries are the whole list of apps.
        var appsDirectory: AppStamp?
        var chunks: Int
    }

    struct Entry: Codable, Sendable {
        var app: AppID
        var stamp: AppStamp
        var state: PersistedAppState
        /// The newer version the cached index offers this app.
        var available: Version?
    }

    var header: Header
    /// The lines after the header, each a JSON array of entries, still encoded.
    var chunks: [ArraySlice<UInt8>]

    /// The entries of one chunk.
    func entries(inChunk chunk: Int) throws -> [Entry] {
        try JSONDecoder().decode([Entry].self, from: Data(chunks[chunk]))
    }

    static func keyIDs(_ keys: [RepositoryPublicKey]) -> [String] {
        keys.map(\.keyID).sorted()
    }

    /// Writes the snapshot of `records`; call only once nothing changes the state any more.
    /// The file is one line of ``Header`` and one line per chunk of entries (JSON never
    /// holds a raw newline inside a value).
    static func write(_ records: some Collection<AppRecord>, repository: PersistedRepositoryState, trustedKeys: [RepositoryPublicKey],
                      indexExpires: Int64?, layout: StateLayout) throws {
        let appsDirectory = try layout.openAppsDirectory()
        defer { close(appsDirectory) }
        // An app whose directory is gone has no entry.
        let entries = records.compactMap { record in
            AppStamp(of: record.app, inAppsDirectory: appsDirectory).map { Entry(app: record.app, stamp: $0, state: record.persisted, available: record.available) }
        }
        let chunks = stride(from: 0, to: entries.count, by: chunkSize).map { entries[$0..<min($0 + chunkSize, entries.count)] }
        let header = Header(repository: repository, trustedKeys: keyIDs(trustedKeys), indexExpires: indexExpires,
                            appsDirectory: AppStamp(ofDirectory: appsDirectory), chunks: chunks.count)
        var bytes: [UInt8] = []
        do {
            let encoder = JSONEncoder()
            bytes += try encoder.encode(header)
            for chunk in chunks {
                bytes.append(UInt8(ascii: "\n"))
                bytes += try encoder.encode(Array(chunk))
            }
            bytes.append(UInt8(ascii: "\n"))
        } catch {
            throw UpdateError(.io, "encode \(layout.snapshot): \(error)")
        }
        try FileSystem.writeAtomically(bytes, to: layout.snapshot)
    }

    /// Reads and deletes the snapshot. Returns nil if there is none, if its header cannot
    /// be read, or if it was written for another repository state or other trusted keys.
    static func take(layout: StateLayout, repository: PersistedRepositoryState, trustedKeys: [RepositoryPublicKey], limit: Int,
                     logger: Logger) -> StateSnapshot? {
        let bytes: [UInt8]?
        do {
            bytes = try FileSystem.readFileIfPresent(layout.snapshot, limit: limit)
        } catch {
            logger.warning("ignoring the start-up snapshot: \(error)")
            bytes = nil
        }
        // Gone before anything changes: what follows must never meet it again.
        unlink(layout.snapshot)
        guard let bytes else { return nil }
        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        let header: Header
        do {
            guard let first = lines.first else { throw UpdateError(.stateCorrupt, "empty") }
            header = try JSONDecoder().decode(Header.self, from: Data(first))
            guard header.chunks == lines.count - 1 else {
                throw UpdateError(.stateCorrupt, "\(lines.count - 1) chunks, the header says \(header.chunks)")
            }
        } catch {
            logger.warning("ignoring the start-up snapshot \(layout.snapshot): \(error)")
            return nil
        }
        guard header.format == currentFormat, header.repository == repository, header.trustedKeys == keyIDs(trustedKeys) else {
            logger.info("not using the start-up snapshot: the repository state or the trusted keys changed")
            return nil
        }
        return StateSnapshot(header: header, chunks: Array(lines.dropFirst()))
    }
}

/// The accepted index left on disk undecoded by a start from the snapshot.
struct DeferredIndex: Sendable {
    /// Its expiry, from the snapshot, for the status until it is decoded.
    var expires: Int64?
}
