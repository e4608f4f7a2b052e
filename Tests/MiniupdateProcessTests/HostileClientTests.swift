import Foundation
import MiniupdateProtocol
import NIOCore
import MiniupdateTestSupport
import Testing

/// Every kind of hostile client at once against the real daemon, while a well-behaved
/// client keeps making requests: it must always be answered, and the daemon's memory must
/// stay bounded. The latencies are printed for `docs/reliability.md`, not asserted.
@Suite(.serialized) struct HostileClientTests {
    static let app = "com.example.weather"

    @Test func aWellBehavedClientIsServedThroughEveryKindOfHostileClient() async throws {
        raiseOpenFileLimit()
        let harness = try await ServerHarness.make()
        try harness.repo.publish(Self.app, "1.0.0")
        let daemon = try await DaemonProcess.start(harness)
        defer { daemon.signal(SIGKILL) }
        let pid = daemon.process.processIdentifier
        let path = harness.socketPath
        _ = try await ctl(["install", Self.app], socket: path)

        try await LineClient.with(path: path) { good in
            let quiet = try await Self.roundTrips(path, count: 1000)
            let baseline = try #require(Self.memory(of: pid))
            var rounds: [(latency: [Duration], peak: Int)] = []
            for _ in 0..<2 {
                let latency = try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await Self.idleConnections(path, count: 1000, holdFor: .seconds(4)) }
                    group.addTask { try await Self.connectAndClose(path, cycles: 10_000) }
                    group.addTask { try await Self.oneBytePerSecond(path, clients: 50, for: .seconds(4)) }
                    group.addTask { try await Self.neverReading(path, clients: 20, app: Self.app) }
                    group.addTask { try await Self.hugeLines(path, clients: 4, bytes: 10 << 20) }
                    group.addTask { try await Self.garbage(path, rounds: 200) }
                    defer { group.cancelAll() }
                    let latency = try await Self.roundTrips(path, count: 2000, pause: .milliseconds(1))
                    try await group.waitForAll()
                    return latency
                }
                rounds.append((latency, try #require(Self.memory(of: pid)).peak))
            }
            // Still served, and every hostile connection is gone (the daemon learns of the
            // last closes asynchronously).
            try await waitUntil {
                guard (try? await good.request(9, "status")) != nil,
                      let status = try? await good.next(where: { $0["id"] as? Int == 9 }),
                      let daemonStatus = (status["result"] as? [String: Any])?["daemon"] as? [String: Any] else { return false }
                return (daemonStatus["counts"] as? [String: Any])?["clients"] as? Int == 1
            }
            // Bounded: a second identical round of attacks adds (almost) nothing to the peak.
            let firstGrowth = rounds[0].peak - baseline.resident
            let secondGrowth = rounds[1].peak - rounds[0].peak
            #expect(firstGrowth < 256 << 20, "peak RSS grew by \(firstGrowth >> 20) MiB")
            #expect(secondGrowth < 16 << 20, "a second round grew the peak RSS by another \(secondGrowth >> 20) MiB")
            print("""
                hostile clients: quiet round trip p50 \(Self.percentile(quiet, 50)) p99 \(Self.percentile(quiet, 99)); \
                under attack p50 \(Self.percentile(rounds[0].latency, 50)) p99 \(Self.percentile(rounds[0].latency, 99)), \
                then p50 \(Self.percentile(rounds[1].latency, 50)) p99 \(Self.percentile(rounds[1].latency, 99)); \
                RSS \(baseline.resident >> 10) KiB before, peak \(rounds[0].peak >> 10) KiB, then \(rounds[1].peak >> 10) KiB
                """)
        }
        await harness.remove()
    }

    // MARK: The well-behaved client

    /// `status` round trips from a thread of their own with blocking I/O, so that what is
    /// measured is the daemon, not the hostile clients sharing this process's task pool.
    static func roundTrips(_ path: String, count: Int, pause: Duration? = nil) async throws -> [Duration] {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try blockingRoundTrips(path, count: count, pause: pause) }) }.start()
        }
    }

    static func blockingRoundTrips(_ path: String, count: Int, pause: Duration?) throws -> [Duration] {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(fd) }
        guard withUnixAddress(path, { connect(fd, $0, $1) }) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        let request = Array(#"{"jsonrpc":"2.0","id":1,"method":"status"}"#.utf8) + [0x0a]
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var samples: [Duration] = []
        samples.reserveCapacity(count)
        let clock = ContinuousClock()
        for _ in 0..<count {
            let start = clock.now
            guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else {
                throw POSIXError(.EPIPE)
            }
            // One response line; `status` responses carry no other newline.
            while true {
                let received = recv(fd, &buffer, buffer.count, 0)
                guard received > 0 else { throw POSIXError(.ECONNRESET) }
                if buffer[..<received].contains(0x0a) { break }
            }
            samples.append(clock.now - start)
            if let pause { usleep(UInt32(pause.components.attoseconds / 1_000_000_000_000)) }
        }
        return samples
    }

    static func percentile(_ samples: [Duration], _ p: Int) -> String {
        let sorted = samples.sorted()
        let value = sorted[min(sorted.count - 1, sorted.count * p / 100)]
        return "\(value.components.attoseconds / 1_000_000_000_000) µs"
    }

    // MARK: Hostile clients (raw, non-blocking sockets: a full backlog never blocks a test thread)

    static func idleConnections(_ path: String, count: Int, holdFor duration: Duration) async throws {
        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        for _ in 0..<count { sockets.append(try await connectUnix(path)) }
        try await Task.sleep(for: duration)
    }

    static func connectAndClose(_ path: String, cycles: Int) async throws {
        for cycle in 0..<cycles {
            close(try await connectUnix(path))
            if cycle % 100 == 0 { await Task.yield() }
        }
    }

    /// Slowloris: a valid request, one byte a second, never finished in time.
    static func oneBytePerSecond(_ path: String, clients: Int, for duration: Duration) async throws {
        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        for _ in 0..<clients { sockets.append(try await connectUnix(path)) }
        let request = Array(#"{"jsonrpc":"2.0","id":1,"method":"status"}"#.utf8)
        let deadline = ContinuousClock.now + duration
        var sent = 0
        while ContinuousClock.now < deadline, sent < request.count {
            for fd in sockets { _ = sendNow(fd, [request[sent]]) }
            sent += 1
            try await Task.sleep(for: .seconds(1))
        }
    }

    /// Subscribers that never read while events flood them: each must be disconnected once
    /// its queue is full, never slowing anyone else.
    static func neverReading(_ path: String, clients: Int, app: String) async throws {
        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        for _ in 0..<clients {
            let fd = try await connectUnix(path, receiveBuffer: 4096)
            _ = sendNow(fd, Array(#"{"jsonrpc":"2.0","id":1,"method":"subscribe","params":{"app":"\#(app)"}}"#.utf8) + [0x0a])
            sockets.append(fd)
        }
        try await withConnectRetry(path) { flooder in
            for id in 0..<300 {
                try await flooder.request(id, "simulate", #"{"app":"\#(app)","outcome":"ready"}"#)
                _ = try await flooder.next(where: { $0["id"] as? Int == id })
            }
        }
    }

    /// 10 MiB without a newline: an error at the line limit, then a disconnect.
    static func hugeLines(_ path: String, clients: Int, bytes: Int) async throws {
        for _ in 0..<clients {
            let fd = try await connectUnix(path)
            defer { close(fd) }
            let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 64 << 10)
            var sent = 0
            while sent < bytes {
                let count = sendNow(fd, chunk)
                if count > 0 { sent += count; continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { try await Task.sleep(for: .milliseconds(1)); continue }
                break  // The daemon closed the connection: what it must do.
            }
        }
    }

    /// Invalid UTF-8, deep nesting, broken JSON, a NUL, over and over on one connection.
    static func garbage(_ path: String, rounds: Int) async throws {
        let lines: [[UInt8]] = [
            [0xff, 0xfe, 0xc0, 0x80, 0x0a],
            Array((String(repeating: "[", count: 100_000) + "\n").utf8),
            Array((String(repeating: "{\"a\":", count: 10_000) + "\n").utf8),
            Array("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\",\"params\":{\"x\":1e99999999}}\n".utf8),
            [0x00, 0x0a],
            Array("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":[]}\n".utf8),
        ]
        try await withConnectRetry(path) { client in
            for round in 0..<rounds {
                try await client.send(bytes: lines[round % lines.count])
                _ = try await client.next()
            }
        }
    }

    // MARK: Process facts

    /// Resident and peak resident bytes, from `/proc/<pid>/status`.
    static func memory(of pid: Int32) -> (resident: Int, peak: Int)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        func field(_ name: String) -> Int? {
            text.split(separator: "\n").first { $0.hasPrefix(name + ":") }
                .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") }
                .map { $0 * 1024 }
        }
        guard let resident = field("VmRSS"), let peak = field("VmHWM") else { return nil }
        return (resident, peak)
    }
}
