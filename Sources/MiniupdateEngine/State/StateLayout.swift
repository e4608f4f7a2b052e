#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MiniupdateCore
import MiniupdateRepository

/// Where everything lives under the state directory. See `docs/on-disk-layout.md`.
///
/// ```
/// <state>/repository.json            last accepted serial, validators, check history
/// <state>/index.signed               the last accepted index, exactly as fetched
/// <state>/snapshot.json              every app's record at the last clean stop (read
///                                    and deleted at start-up)
/// <state>/apps/<id>/current          symlink: versions/<version>, or an absolute path
///                                    for a development install
/// <state>/apps/<id>/state.json       status, last error, history
/// <state>/apps/<id>/versions/<v>/    complete trees, never modified after staging
/// <state>/apps/<id>/staging/         trees being unpacked (removed at start-up)
/// <state>/apps/<id>/trash/           trees being deleted (emptied at start-up)
/// ```
struct StateLayout: Sendable {
    let root: String

    var repositoryState: String { "\(root)/repository.json" }
    var cachedIndex: String { "\(root)/\(SignedIndex.fileName)" }
    var appsDirectory: String { "\(root)/apps" }
    var snapshot: String { "\(root)/snapshot.json" }

    func appDirectory(_ app: AppID) -> String { "\(appsDirectory)/\(app.rawValue)" }
    func current(_ app: AppID) -> String { "\(appDirectory(app))/current" }
    func appState(_ app: AppID) -> String { "\(appDirectory(app))/state.json" }
    func versionsDirectory(_ app: AppID) -> String { "\(appDirectory(app))/versions" }
    func version(_ app: AppID, _ version: Version) -> String { "\(versionsDirectory(app))/\(version.text)" }
    func stagingDirectory(_ app: AppID) -> String { "\(appDirectory(app))/staging" }
    func trashDirectory(_ app: AppID) -> String { "\(appDirectory(app))/trash" }

    /// An open descriptor of ``appsDirectory``, for lookups relative to it; close it.
    func openAppsDirectory() throws -> CInt {
        try systemCall("open", appsDirectory) { open(appsDirectory, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
    }

    /// The relative target that `current` holds for an installed version.
    static func currentTarget(for version: Version) -> String { "versions/\(version.text)" }
}
