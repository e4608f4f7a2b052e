#if canImport(Glibc)
import Glibc
#endif
import MiniupdateCore
import MiniupdateProtocol

/// Who is on the other end of a connection, from `SO_PEERCRED`.
public struct PeerCredentials: Sendable, Equatable, CustomStringConvertible {
    /// The peer's process id at the time it connected; for logs only, never for decisions.
    public var pid: pid_t
    /// The peer's effective user id: what ``AccessPolicy`` decides by.
    public var uid: uid_t
    /// The peer's effective primary group id; its supplementary groups are looked up only
    /// when an admin method needs them.
    public var gid: gid_t

    /// Credentials as given, for tests and for a peer known by other means.
    public init(pid: pid_t, uid: uid_t, gid: gid_t) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }

    /// `uid <uid> pid <pid>`, for logs and refusals.
    public var description: String { "uid \(uid) pid \(pid)" }

    /// The groups of user `uid` (whose primary group is `gid`), as `initgroups` would set them.
    static func groups(ofUser uid: uid_t, primary gid: gid_t) -> [gid_t] {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.pw_name else {
            return [gid]
        }
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(name, gid, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            guard getgrouplist(name, gid, &groups, &count) >= 0 else { return [gid] }
        }
        return Array(groups.prefix(Int(count)))
    }
}

/// Which peers may call which methods, by each method's ``MiniupdateProtocol/MethodAccess``:
///
/// - `subscribe`, `unsubscribe` and `status`: anyone who can connect (the socket's mode and
///   group already decide that).
/// - `install`, `rollback` and `simulate`: administrators, that is root, the daemon's own
///   user, and members of the admin group.
/// - `applyUpdate` and `checkForUpdate` of one app: administrators, and the user the
///   configuration names as that app's owner, so an app can check and apply its own
///   updates and nothing else.
public struct AccessPolicy: Sendable, Equatable {
    /// The daemon's own uid: its timer job and its operator.
    public var daemonUID: uid_t
    /// The group whose members are administrators (`admin-group` in the configuration),
    /// as its primary or a supplementary group; nil when there is none.
    public var adminGroup: gid_t?
    /// App id → the uid that may apply that app's updates.
    public var appOwners: [String: uid_t]

    /// A policy whose administrators are root, `daemonUID` and members of `adminGroup`, and
    /// whose app owners are `appOwners`. The defaults make only root and this process's
    /// user administrators.
    public init(daemonUID: uid_t = getuid(), adminGroup: gid_t? = nil, appOwners: [String: uid_t] = [:]) {
        self.daemonUID = daemonUID
        self.adminGroup = adminGroup
        self.appOwners = appOwners
    }

    /// Whether `peer` may make `request`.
    public func permits(_ request: ClientRequest, peer: PeerCredentials) -> Bool {
        switch request.access {
        case .everyone:
            return true
        case .administrators:
            return isAdministrator(peer)
        case .administratorsAndAppOwner:
            if let app = request.app, appOwners[app] == peer.uid { return true }
            return isAdministrator(peer)
        }
    }

    private func isAdministrator(_ peer: PeerCredentials) -> Bool {
        if peer.uid == 0 || peer.uid == daemonUID { return true }
        // The user database is read only here, for an admin call by a non-admin-looking
        // peer: never on connect, which must stay cheap for thousands of clients.
        guard let adminGroup else { return false }
        return peer.gid == adminGroup || PeerCredentials.groups(ofUser: peer.uid, primary: peer.gid).contains(adminGroup)
    }

    /// Who may call a method of `access`, in words for a refusal.
    func describe(_ access: MethodAccess) -> String {
        let administrators = "root, uid \(daemonUID) (the daemon's user)\(adminGroup.map { " or the group \(Self.groupName($0))" } ?? "")"
        switch access {
        case .everyone: return "nothing"
        case .administrators: return administrators
        case .administratorsAndAppOwner: return administrators + ", or the app's owner (app-owner.<app id> in miniupdate.conf)"
        }
    }

    static func groupName(_ gid: gid_t) -> String {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        guard getgrgid_r(gid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.gr_name else { return "\(gid)" }
        return "\(String(cString: name)) (gid \(gid))"
    }
}

import NIOCore
import Synchronization

/// The policy in force, replaced on reload while connections are served.
final class AccessPolicyBox: Sendable {
    private let policy: Mutex<AccessPolicy?>

    init(_ policy: AccessPolicy?) { self.policy = Mutex(policy) }

    var current: AccessPolicy? { policy.withLock { $0 } }

    func replace(with new: AccessPolicy?) { policy.withLock { $0 = new } }
}

/// What the daemon, beyond the engine, reports in `status`: the outcome of the last
/// reload. Its ``generation`` changes with it, so a cached status goes stale.
final class DaemonStateBox: Sendable {
    private let state = Mutex<(reloadError: UpdateError?, generation: UInt64)>((nil, 0))

    var reloadError: UpdateError? { state.withLock { $0.reloadError } }
    var generation: UInt64 { state.withLock { $0.generation } }

    func setReloadError(_ error: UpdateError?) {
        state.withLock { state in
            guard state.reloadError != error else { return }
            state.reloadError = error
            state.generation += 1
        }
    }
}

/// The layout of Linux's `struct ucred`, which Swift's Glibc module hides behind _GNU_SOURCE.
private struct UCred: Sendable {
    var pid: pid_t = 0
    var uid: uid_t = 0
    var gid: gid_t = 0
}

extension PeerCredentials {
    /// Reads `SO_PEERCRED` of a connected Unix socket channel; nil if it cannot. Called
    /// when the connection is accepted, on its event loop.
    static func of(_ channel: any Channel) -> EventLoopFuture<PeerCredentials?> {
        guard let provider = channel as? any SocketOptionProvider else { return channel.eventLoop.makeSucceededFuture(nil) }
        let future: EventLoopFuture<UCred> = provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        return future.map { PeerCredentials(pid: $0.pid, uid: $0.uid, gid: $0.gid) }.recover { _ in nil }
    }
}
