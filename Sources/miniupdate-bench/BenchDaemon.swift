#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MiniupdateClient
import MiniupdateProtocol

/// The release `miniupdated` under test, started as systemd would (with `NOTIFY_SOCKET`),
/// so that the time to READY can be read.
struct BenchDaemon: Sendable {
    let process: Process
    let socket: String
    let stateDirectory: String
    /// From exec to READY=1.
    let startUp: Duration
    var pid: Int32 { process.processIdentifier }

    static func start(_ bench: Workbench, name: String, repository: BenchRepository) async throws -> BenchDaemon {
        let directory = bench.path("daemon-\(name)")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let configuration = "\(directory)/miniupdate.conf"
        if !FileManager.default.fileExists(atPath: configuration) {
            try "max-clients = 16384\n".write(toFile: configuration, atomically: true, encoding: .utf8)
        }
        let notify = "\(directory)/notify"
        unlink(notify)
        let notifyFD = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(notifyFD); unlink(notify) }
        guard withUnixAddress(notify, { bind(notifyFD, $0, $1) }) == 0 else { throw BenchError("cannot bind \(notify)") }
        let socketPath = "\(directory)/sock"
        let clock = ContinuousClock()
        let start = clock.now
        let process = try Shell.start("\(bench.binaries)/miniupdated", [
            "--config", configuration, "--state-dir", "\(directory)/state", "--cache-dir", "\(directory)/cache",
            "--socket", socketPath, "--repository", repository.url, "--trusted-key", repository.publicKeyPath, "--log-level", "notice",
        ], environment: ["NOTIFY_SOCKET": notify], log: "\(directory)/daemon.log")
        let timeout = Int32(bench.readyTimeout.components.seconds * 1000)
        let ready = try await Shell.blocking { () -> ContinuousClock.Instant? in
            var buffer = [UInt8](repeating: 0, count: 4096)
            var poller = pollfd(fd: notifyFD, events: Int16(POLLIN), revents: 0)
            while poll(&poller, 1, timeout) > 0 {
                let count = recv(notifyFD, &buffer, buffer.count, 0)
                if count > 0, String(decoding: buffer[..<count], as: UTF8.self).split(separator: "\n").contains("READY=1") { return clock.now }
            }
            return nil
        }
        guard let ready else {
            process.terminate()
            throw BenchError("miniupdated did not send READY=1 within \(bench.readyTimeout); see \(directory)/daemon.log")
        }
        return BenchDaemon(process: process, socket: socketPath, stateDirectory: "\(directory)/state", startUp: ready - start)
    }

    func call<Request: RPCMethod>(_ request: Request) async throws -> Request.Result {
        try await DaemonClient.withConnection(socketPath: socket) { try await $0.call(request) }
    }

    /// SIGTERM, and waits for the exit.
    func stop() async {
        process.terminate()
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
    }

    /// SIGKILL, as a crash would end it (no start-up snapshot is left), and waits for the exit.
    func kill() async {
        Glibc.kill(pid, SIGKILL)
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
    }
}

/// Calls `body` with the `sockaddr_un` of `path`.
func withUnixAddress<T>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        for (index, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
    }
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
}

/// Connections that stay open and silent, as idle app processes keep them.
final class IdleConnections: Sendable {
    let descriptors: [Int32]

    init(to path: String, count: Int) throws {
        descriptors = try (0..<count).map { _ in
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard withUnixAddress(path, { connect(fd, $0, $1) }) == 0 else { throw BenchError("connect \(path): errno \(errno)") }
            return fd
        }
    }

    func close() { descriptors.forEach { _ = Glibc.close($0) } }
}
