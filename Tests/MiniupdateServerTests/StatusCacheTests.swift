import Foundation
import MiniupdateCore
import MiniupdateEngine
import MiniupdateProtocol
import MiniupdateRepository
@testable import MiniupdateServer
import MiniupdateTestSupport
import Testing

/// `status` is answered on the event loop from a cache while nothing it shows has changed.
@Suite struct StatusCacheTests {
    static let app = "com.example.weather"

    @Test(arguments: [RPCID.number(7), .number(-3), .number(Int64.max), .string(""), .string("a\"b\\c/é\u{1}\u{2028}")])
    func aCachedResponseIsTheLineTheEncoderMakes(_ id: RPCID) throws {
        let result = StatusResult(daemon: DaemonStatusPayload(
            version: "1.0", repository: "http://r/", serial: 3, indexExpires: 9, lastCheck: 5, lastError: nil,
            counts: .init(apps: 1, updatesReady: 0, downloading: 0, failed: 0, clients: 2)
        ), apps: [])
        let encoded = Array(encodeLine(result).dropLast())
        let line = encodeResponseLine(id: id, encodedResult: encoded)
        #expect(Array(line.readableBytesView) == encodeLine(RPCResponse(id: id, result: result)))
    }

    @Test func aStatusFromTheCacheFollowsEveryChange() async throws {
        let harness = try await ServerHarness.make()
        try harness.repo.publish(Self.app, "1.0.0")
        try await harness.serve { engine, _ in
            try await LineClient.with(path: harness.socketPath) { client in
                let first = try await Self.status(client, 1)
                #expect(Self.counts(first)["apps"] as? Int == 0)
                #expect(Self.counts(first)["clients"] as? Int == 1)
                // Nothing changed: the same answer (now from the cache).
                let second = try await Self.status(client, 2)
                #expect(NSDictionary(dictionary: second) == NSDictionary(dictionary: first))

                // A change in the engine shows at once.
                try await engine.install(AppID(Self.app))
                let installed = try await Self.status(client, 3)
                #expect(Self.apps(installed).first?["installedVersion"] as? String == "1.0.0")
                #expect(Self.counts(installed)["apps"] as? Int == 1)

                // So does a change in the client count.
                try await LineClient.with(path: harness.socketPath) { other in
                    try await other.request(1, "status")
                    _ = try await other.next(where: isResponse(1))
                    let withTwo = try await Self.status(client, 4)
                    #expect(Self.counts(withTwo)["clients"] as? Int == 2)
                }
                // The other client's disconnect is seen by the server a moment later.
                var clients = 0
                for attempt in 0..<500 {
                    clients = Self.counts(try await Self.status(client, 100 + attempt))["clients"] as? Int ?? 0
                    if clients == 1 { break }
                    try await Task.sleep(for: .milliseconds(10))
                }
                #expect(clients == 1)

                // And a check (the repository's serial and check time).
                try harness.repo.publish(Self.app, "1.1.0")
                _ = try await engine.checkAll()
                let checked = try await Self.status(client, 6)
                #expect(Self.apps(checked).first?["availableVersion"] as? String == "1.1.0")
                #expect((checked["daemon"] as? [String: Any])?["serial"] as? Int != nil)
            }
        }
        await harness.remove()
    }

    static func status(_ client: LineClient, _ id: Int) async throws -> [String: Any] {
        try await client.request(id, "status")
        return try #require(try await client.next(where: isResponse(id))?.result)
    }

    static func counts(_ status: [String: Any]) -> [String: Any] { (status["daemon"] as? [String: Any])?["counts"] as? [String: Any] ?? [:] }
    static func apps(_ status: [String: Any]) -> [[String: Any]] { status["apps"] as? [[String: Any]] ?? [] }

    @Test func aStatusAfterOtherRequestsKeepsItsPlace() async throws {
        let harness = try await ServerHarness.make()
        try harness.repo.publish(Self.app, "1.0.0")
        try await harness.serve { engine, _ in
            try await engine.install(AppID(Self.app))
            try await LineClient.with(path: harness.socketPath) { client in
                try await client.request(1, "status")
                _ = try await client.next(where: isResponse(1))
                // One write: the subscribe goes to the connection's task, so the status after
                // it must wait for it even though the cache could answer at once.
                try await client.send(
                    #"{"jsonrpc":"2.0","id":2,"method":"subscribe","params":{"app":"\#(Self.app)"}}"# + "\n"
                        + #"{"jsonrpc":"2.0","id":3,"method":"status"}"# + "\n"
                        + #"{"jsonrpc":"2.0","id":4,"method":"unsubscribe","params":{"app":"\#(Self.app)"}}"# + "\n"
                        + #"{"jsonrpc":"2.0","id":5,"method":"status"}"# + "\n"
                )
                var order: [Int] = []
                while order.count < 4, let message = try await client.next() {
                    if let id = message.id { order.append(id) }
                }
                #expect(order == [2, 3, 4, 5])
            }
        }
        await harness.remove()
    }
}
