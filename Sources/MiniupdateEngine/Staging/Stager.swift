#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MiniupdateCore
import MiniupdateRepository

/// Turns a verified package into `versions/<version>/` and switches `current`, in an order
/// that leaves every observable state complete whatever instant a crash hits:
///
/// - stage: unpack into `staging/<version>.tmp-…`, `syncfs`, rename into `versions/`,
///   fsync `versions/`. A tree under `versions/` is therefore always whole.
/// - switch: make a new symlink beside `current`, rename it over `current`, fsync the app
///   directory. `current` always names one complete version.
/// - delete: rename the tree into `trash/` first, then remove it, so `versions/` never
///   holds a half-deleted tree.
struct Stager: Sendable {
    let layout: StateLayout
    let limits: ExtractionLimits

    /// Unpacks `packagePath` as `version` of `app`; returns at once if that version is
    /// already staged (it is complete by construction).
    func stage(app: AppID, release: Release, packagePath: String) throws {
        let destination = layout.version(app, release.version)
        if FileSystem.kind(at: destination) == .directory { return }
        let staging = layout.stagingDirectory(app)
        try FileSystem.createDirectory(staging)
        try FileSystem.createDirectory(layout.versionsDirectory(app))
        let temporary = "\(staging)/\(release.version.text).tmp-\(FileSystem.temporarySuffix())"
        // The signed index declares the unpacked size and entry count: hold the archive to
        // them as well as to the local limits.
        let effective = ExtractionLimits(
            maximumBytes: min(limits.maximumBytes, release.installedSize),
            maximumEntries: min(limits.maximumEntries, release.files)
        )
        do throws {
            _ = try PackageExtractor.extract(archiveAt: packagePath, into: temporary, limits: effective)
            CrashPoint.reach("stage-unpacked")
            try FileSystem.syncFilesystem(containing: temporary)
            try FileSystem.rename(temporary, to: destination)
            CrashPoint.reach("stage-renamed")
            try FileSystem.syncDirectory(layout.versionsDirectory(app))
        } catch {
            try? FileSystem.removeTree(temporary)
            throw error
        }
    }

    /// Points `current` at `version`, atomically.
    func switchCurrent(app: AppID, to version: Version) throws {
        try switchCurrent(app: app, target: StateLayout.currentTarget(for: version))
    }

    func switchCurrent(app: AppID, target: String) throws {
        let directory = layout.appDirectory(app)
        let temporary = "\(directory)/.current.tmp-\(FileSystem.temporarySuffix())"
        try systemCall("symlink", temporary) { symlink(target, temporary) }
        CrashPoint.reach("switch-linked")
        do throws {
            try FileSystem.rename(temporary, to: layout.current(app))
        } catch {
            unlink(temporary)
            throw error
        }
        CrashPoint.reach("switch-renamed")
        try FileSystem.syncDirectory(directory)
    }

    /// Moves a version's tree out of `versions/` into `trash/`: instant, whatever its size.
    func moveToTrash(app: AppID, version: Version) throws {
        let tree = layout.version(app, version)
        guard FileSystem.exists(tree) else { return }
        let trash = layout.trashDirectory(app)
        try FileSystem.createDirectory(trash)
        try FileSystem.rename(tree, to: "\(trash)/\(version.text).\(FileSystem.temporarySuffix())")
        CrashPoint.reach("trash-moved")
        try FileSystem.syncDirectory(layout.versionsDirectory(app))
    }

    /// Deletes what ``moveToTrash(app:version:)`` set aside.
    func emptyTrash(app: AppID) throws {
        try FileSystem.removeTree(layout.trashDirectory(app))
    }

    /// Removes leftovers of interrupted work: staging trees, trash, temporary links.
    /// One listing of the app's directory decides what to remove: at start-up, with
    /// thousands of apps, most have nothing to clean.
    func cleanUp(app: AppID) throws {
        let directory = layout.appDirectory(app)
        for name in try FileSystem.contentsOfDirectory(directory)
        where name == "staging" || name == "trash" || FileSystem.isTemporaryName(name) {
            try FileSystem.removeTree("\(directory)/\(name)")
        }
    }

    /// The versions present under `versions/`, in ascending order; names that are not
    /// versions are ignored.
    func stagedVersions(app: AppID) throws -> [Version] {
        try FileSystem.contentsOfDirectory(layout.versionsDirectory(app)).compactMap { try? Version($0) }.sorted()
    }
}
