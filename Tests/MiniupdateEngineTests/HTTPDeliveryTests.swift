import Foundation
import MiniupdateEngine
import MiniupdateTestSupport
import Synchronization
import Testing

/// Where a sink's bytes come from: a large body reaches a sink that asks for it from the
/// blocking pool, so receiving overlaps with its work; anything else is delivered inline,
/// by the fetching task (an index kept in memory gains nothing from a second thread).
@Suite struct HTTPDeliveryTests {
    /// Records the bytes and, for each call, whether it ran on a thread of NIO's singleton
    /// blocking pool (which NIO names `SGLTN-TP-#n`).
    final class Record: Sendable {
        let state = Mutex<(bytes: [UInt8], onPool: [Bool])>(([], []))
    }

    static func onBlockingPool() -> Bool {
        (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8))?.hasPrefix("SGLTN-TP-") == true
    }

    struct RecordingSink<Choice: PoolChoice>: FetchSink {
        static var deliversOnBlockingPool: Bool { Choice.pool }
        let record: Record
        mutating func begin(offset: Int64, contentLength: Int64?, validators: Validators) throws {}
        mutating func append(_ bytes: UnsafeRawBufferPointer) throws {
            let onPool = HTTPDeliveryTests.onBlockingPool()
            record.state.withLock { $0.bytes += bytes; $0.onPool.append(onPool) }
        }
    }

    protocol PoolChoice { static var pool: Bool { get } }
    enum Pool: PoolChoice { static var pool: Bool { true } }
    enum Inline: PoolChoice { static var pool: Bool { false } }

    func fetch<Sink: FetchSink>(_ size: Int, into sink: inout Sink) async throws -> [UInt8] {
        let root = try TemporaryDirectory()
        var generator = SystemRandomNumberGenerator()
        let body = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try Data(body).write(to: URL(fileURLWithPath: "\(root.path)/body.bin"))
        let server = try await TestHTTPServer(root: root.path)
        let transport = try HTTPTransport(baseURL: server.baseURL)
        let outcome = try await transport.fetch(FetchRequest(path: "body.bin"), into: &sink)
        #expect(outcome != .notModified)
        await transport.shutdown()
        try await server.shutdown()
        root.remove()
        return body
    }

    @Test func aLargeBodyReachesASinkThatAsksFromTheBlockingPoolInOrder() async throws {
        var sink = RecordingSink<Pool>(record: Record())
        let body = try await fetch(3 << 20 + 12_345, into: &sink)
        let (bytes, onPool) = sink.record.state.withLock { $0 }
        #expect(bytes == body)
        #expect(!onPool.isEmpty && onPool.allSatisfy { $0 })
    }

    @Test func aSmallBodyOrASinkThatKeepsItInMemoryIsDeliveredInline() async throws {
        var inMemory = RecordingSink<Inline>(record: Record())
        let large = try await fetch(3 << 20, into: &inMemory)
        #expect(inMemory.record.state.withLock { $0.bytes } == large)
        #expect(inMemory.record.state.withLock { !$0.onPool.isEmpty && !$0.onPool.contains(true) })

        var small = RecordingSink<Pool>(record: Record())
        let body = try await fetch(100_000, into: &small)
        #expect(small.record.state.withLock { $0.bytes } == body)
        #expect(small.record.state.withLock { !$0.onPool.isEmpty && !$0.onPool.contains(true) })
    }
}
