import Foundation
import NIOCore

/// `LineClient.with`, retried while the listener's backlog is full (connect's EAGAIN on a
/// Unix socket), as a real client under a connection storm must.
public func withConnectRetry<T: Sendable>(_ path: String, _ body: @Sendable (LineClient) async throws -> T) async throws -> T {
    var attempt = 0
    while true {
        do {
            return try await LineClient.with(path: path, body)
        } catch let error as IOError where error.errnoCode == EAGAIN && attempt < 1000 {
            attempt += 1
            try await Task.sleep(for: .milliseconds(2))
        }
    }
}

/// A non-blocking Unix-socket connection; waits (without blocking a thread) while the
/// listener's backlog is full.
public func connectUnix(_ path: String, receiveBuffer: Int32? = nil) async throws -> Int32 {
    while true {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        if var receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, socklen_t(MemoryLayout<Int32>.size)) }
        if withUnixAddress(path, { connect(fd, $0, $1) }) == 0 { return fd }
        let error = errno
        close(fd)
        guard error == EAGAIN else { throw POSIXError(POSIXErrorCode(rawValue: error) ?? .EIO) }
        try await Task.sleep(for: .milliseconds(1))
    }
}

/// `send` that neither blocks nor raises SIGPIPE; the byte count, or -1 with `errno` set.
public func sendNow(_ fd: Int32, _ bytes: [UInt8]) -> Int {
    bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
}

/// Tests hold thousands of sockets; lift the soft descriptor limit to the hard one.
public func raiseOpenFileLimit() {
    var limit = rlimit()
    guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    limit.rlim_cur = limit.rlim_max
    setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
}

/// Connects, subscribes to `app`, and returns the descriptor without ever reading it.
public func silentSubscriber(path: String, app: String) throws -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var receiveBuffer: Int32 = 4096
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, socklen_t(MemoryLayout<Int32>.size))
    guard withUnixAddress(path, { connect(fd, $0, $1) }) == 0 else { throw POSIXError(.ECONNREFUSED) }
    let request = Array("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"subscribe\",\"params\":{\"app\":\"\(app)\"}}\n".utf8)
    _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    return fd
}

/// Calls `body` with the `sockaddr_un` of `path` (for connect and bind).
public func withUnixAddress<T>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        for (index, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
    }
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
}

/// Whether the peer closed `fd` (reads, discarding, until EOF or an error, without blocking).
public func peerClosed(_ fd: Int32) -> Bool {
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        if count == 0 { return true }
        if count < 0 { return errno != EAGAIN && errno != EWOULDBLOCK }
    }
}

public func bindUnix(_ fd: Int32, _ path: String) throws {
    guard withUnixAddress(path, { bind(fd, $0, $1) }) == 0 else { throw POSIXError(.EADDRINUSE) }
}
