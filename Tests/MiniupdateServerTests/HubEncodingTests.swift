import Foundation
import Synchronization
import MiniupdateCore
import MiniupdateEngine
@testable import MiniupdateServer
import MiniupdateTestSupport
import Testing

/// Every event type is encoded once per event, not once per subscriber: a fan-out to
/// 1,000 clients costs one encoding and 1,000 sends.
@Suite struct HubEncodingTests {
    static let app = "com.example.weather"
    static let subscribers = 40

    @Test func eachEventIsEncodedOnceWhateverTheSubscribers() async throws {
        let harness = try await ServerHarness.make()
        try harness.repo.publish(Self.app, "1.0.0")
        // The install counts as the app's check: with a check interval, the subscribes'
        // cold starts bring no check, and no event but those counted below.
        try await harness.serve(options: ServerOptions(checkInterval: .seconds(3600))) { engine, server in
            try await engine.install(AppID(Self.app))
            // Subscribers, each on its own connection, which read everything they are sent.
            try await withThrowingTaskGroup(of: [String].self) { group in
                let subscribed = SubscribedCounter()
                for _ in 0..<Self.subscribers {
                    group.addTask {
                        try await LineClient.with(path: harness.socketPath) { client in
                            try await client.request(1, "subscribe", #"{"app":"\#(Self.app)"}"#)
                            _ = try await client.next(where: isResponse(1))
                            subscribed.add()
                            // Until the simulated apply, the last of the sequence below.
                            var methods: [String] = []
                            while let message = try await client.next(where: { $0.method != nil && $0.params["replay"] == nil }) {
                                methods.append(message.method ?? "")
                                if message.method == "onUpdateApplied" { break }
                            }
                            return methods
                        }
                    }
                }
                try await waitUntil { subscribed.count == Self.subscribers }
                let before = server.hub.eventsEncoded
                try await LineClient.with(path: harness.socketPath) { control in
                    // onCheckForUpdate (false), then (true), five onDownloadProgress and
                    // onUpdateReady, then (true) and onUpdateFailed, then onUpdateApplied.
                    for (id, outcome) in [(1, "no-update"), (2, "ready"), (3, "failed")] {
                        try await control.request(id, "simulate", #"{"app":"\#(Self.app)","outcome":"\#(outcome)"}"#)
                        #expect(try await control.next(where: isResponse(id))?.error == nil)
                    }
                    try await control.request(4, "applyUpdate", #"{"app":"\#(Self.app)"}"#)
                    #expect(try await control.next(where: isResponse(4))?.result?["simulated"] as? Bool == true)
                }
                let expected = ["onCheckForUpdate", "onCheckForUpdate"] + Array(repeating: "onDownloadProgress", count: 5)
                    + ["onUpdateReady", "onCheckForUpdate", "onUpdateFailed", "onUpdateApplied"]
                for try await received in group {
                    #expect(received == expected, "\(received)")
                }
                #expect(server.hub.eventsEncoded - before == UInt64(expected.count))
            }
        }
        await harness.remove()
    }
}

final class SubscribedCounter: Sendable {
    private let value = Mutex(0)
    var count: Int { value.withLock { $0 } }
    func add() { value.withLock { $0 += 1 } }
}
