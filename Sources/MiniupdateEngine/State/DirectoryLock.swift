#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import MiniupdateCore
import MiniupdateRepository
import Synchronization

/// An exclusive `flock(2)` on a directory's `miniupdated.lock`, which holds the pid of
/// the holder, so that two engines (two daemons, or two in one process) never share a
/// state or cache directory: each would keep its own view and overwrite the other's files.
///
/// The lock is the kernel's: it goes with the descriptor, so a killed holder leaves no
/// stale lock, only a file that the next holder reuses.
final class DirectoryLock: Sendable {
    static let fileName = "miniupdated.lock"

    let path: String
    private let descriptor: Mutex<CInt>

    /// Takes the lock of `directory` (created if missing), or throws `in-use`
    /// naming the pid that holds it. `role` names the directory in that message.
    init(directory: String, role: String) throws {
        try FileSystem.createDirectory(directory)
        path = "\(directory)/\(Self.fileName)"
        let path = self.path
        let fd = try systemCall("open", path) { open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644) }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            let holder = Self.holder(fd)
            close(fd)
            guard code == EWOULDBLOCK else { throw UpdateError(systemErrno: code, operation: "lock", path: path) }
            throw UpdateError(.inUse, "\(role) directory \(directory) is in use by \(holder.map { "pid \($0)" } ?? "another process")")
        }
        // Who holds it, for the next one to name: the pid and a newline, nothing else.
        let text = Array("\(getpid())\n".utf8)
        do {
            try systemCall("truncate", path) { ftruncate(fd, 0) }
            _ = try systemCall("seek", path) { lseek(fd, 0, SEEK_SET) }
            try FileSystem.writeAll(fd, text, path: path)
        } catch {
            close(fd)
            throw error
        }
        descriptor = Mutex(fd)
    }

    /// Releases the lock; later calls do nothing.
    func release() {
        let fd = descriptor.withLock { fd in
            defer { fd = -1 }
            return fd
        }
        if fd >= 0 { close(fd) }
    }

    deinit { release() }

    private static func holder(_ fd: CInt) -> Int32? {
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = pread(fd, &bytes, bytes.count, 0)
        guard count > 0 else { return nil }
        return Int32(String(decoding: bytes[..<count], as: UTF8.self).prefix { $0 != "\n" })
    }
}

/// The locks of an engine's state and cache directories, one lock when they are the same.
struct EngineDirectoryLocks: Sendable {
    let locks: [DirectoryLock]

    init(stateDirectory: String, cacheDirectory: String) throws {
        let state = try DirectoryLock(directory: stateDirectory, role: "state")
        guard Self.normalized(cacheDirectory) != Self.normalized(stateDirectory) else {
            locks = [state]
            return
        }
        do {
            locks = [state, try DirectoryLock(directory: cacheDirectory, role: "cache")]
        } catch {
            state.release()
            throw error
        }
    }

    func release() {
        for lock in locks { lock.release() }
    }

    private static func normalized(_ path: String) -> String {
        var path = path
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        return path
    }
}
