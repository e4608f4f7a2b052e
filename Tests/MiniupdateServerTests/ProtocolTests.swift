import Foundation
import MiniupdateCore
import MiniupdateEngine
import MiniupdateProtocol
import MiniupdateRepository
import MiniupdateServer
import MiniupdateTestSupport
import Testing

@Suite struct ProtocolTests {
    static let app = "com.example.weather"

    @Test func aLateSubscriberGetsTheReplayAndTwoClientsBothGetEvents() async throws {
        let harness = try await ServerHarness.make()
        try harness.repo.publish(Self.app, "1.0.0")
        try await harness.serve { engine, _ in
            try await engine.install(AppID(Self.app))
            try harness.repo.publish(Self.app, "1.1.0")
            try await LineClient.with(path: harness.socketPath) { early in
                try await early.request(1, "subscribe", #"{"app":"\#(Self.app)"}"#)
                let subscribed = try #require(try await early.next(where: isResponse(1)))
                #expect(subscribed.result?["version"] as? String == "1.0.0")
                #expect(subscribed.result?["state"] as? String == "up-to-date")
                try await early.request(2, "checkForUpdate", #"{"app":"\#(Self.app)"}"#)
                let checked = try #require(try await early.next(where: isEvent("onCheckForUpdate")))
                #expect(checked.params["hasUpdate"] as? Bool == true)
                #expect(checked.params["version"] as? String == "1.1.0")
                #expect(try await early.next(where: isEvent("onUpdateReady"))?.params["version"] as? String == "1.1.0")

                // A second client, connecting after everything happened, sees the same.
                try await LineClient.with(path: harness.socketPath) { late in
                    try await late.request(7, "subscribe", #"{"app":"\#(Self.app)"}"#)
                    #expect(try await late.next()?.id == 7)
                    let replayedCheck = try #require(try await late.next())
                    #expect(replayedCheck.method == "onCheckForUpdate")
                    #expect(replayedCheck.params["hasUpdate"] as? Bool == true)
                    #expect(replayedCheck.params["replay"] as? Bool == true)
                    let replayedReady = try #require(try await late.next())
                    #expect(replayedReady.method == "onUpdateReady")
                    #expect(replayedReady.params["version"] as? String == "1.1.0")

                    // Both receive the live apply, once.
                    try await late.request(8, "applyUpdate", #"{"app":"\#(Self.app)"}"#)
                    let applied = try #require(try await late.next(where: isResponse(8)))
                    #expect(applied.result?["version"] as? String == "1.1.0")
                    #expect(applied.result?["previousVersion"] as? String == "1.0.0")
                    for client in [early, late] {
                        let event = try #require(try await client.next(where: isEvent("onUpdateApplied")))
                        #expect(event.params["version"] as? String == "1.1.0")
                        #expect(event.params["previousVersion"] as? String == "1.0.0")
                    }
                }
            }
            #expect(harness.current(Self.app) == "versions/1.1.0")
        }
        await harness.remove()
    }

    @Test func aRollbackThatKeepsANewerStagedUpdateStillReplaysItAsReady() async throws {
        let harness = try await ServerHarness.make()
        try harness.repo.publish(Self.app, "1.0.0")
        try await harness.serve { engine, _ in
            let events = engine.events()
            try await engine.install(AppID(Self.app))
            try harness.repo.publish(Self.app, "1.1.0")
            try await engine.check(AppID(Self.app))
            for await event in events where event.kind == .ready(version: try Version("1.1.0")) { break }
            try await engine.applyUpdate(AppID(Self.app))
            try harness.repo.publish(Self.app, "1.2.0")
            try await engine.check(AppID(Self.app))
            for await event in events where event.kind == .ready(version: try Version("1.2.0")) { break }
            // A listener hears the rollback: then the hub has recorded it for the replay.
            try await LineClient.with(path: harness.socketPath) { early in
                try await early.request(1, "subscribe", #"{"app":"\#(Self.app)"}"#)
                #expect(try await early.next(where: isResponse(1)) != nil)
                let rolledBack = try await engine.rollback(AppID(Self.app))
                #expect(rolledBack.version == (try Version("1.0.0")))
                #expect(try await early.next { $0.method == "onUpdateApplied" && $0.params["replay"] == nil } != nil)
            }
            try await LineClient.with(path: harness.socketPath) { late in
                try await late.request(1, "subscribe", #"{"app":"\#(Self.app)"}"#)
                let subscribed = try #require(try await late.next(where: isResponse(1)))
                #expect(subscribed.result?["state"] as? String == "ready")
                let ready = try await late.next(where: isEvent("onUpdateReady"))
                #expect(ready?.params["version"] as? String == "1.2.0")
            }
        }
        await harness.remove()
    }

    @Test func applyBeforeReadyIsRefusedAndChangesNothing() async throws {
        let harness = try await ServerHarness.make()
        try harness.repo.publish(Self.app, "1.0.0")
        try await harness.serve { engine, _ in
            try await engine.install(AppID(Self.app))
            try await LineClient.with(path: harness.socketPath) { client in
                try await client.request(1, "applyUpdate", #"{"app":"\#(Self.app)"}"#)
                let response = try #require(try await client.next(where: isResponse(1)))
                #expect(response.errorReason == "no-update-ready")
                #expect(response.errorCode == 1002)
                try await client.request(2, "applyUpdate", #"{"app":"com.example.absent"}"#)
                #expect(try await client.next(where: isResponse(2))?.errorReason == "unknown-app")
            }
            #expect(harness.current(Self.app) == "versions/1.0.0")
        }
        await harness.remove()
    }

    @Test func badRequestsGetTheirErrorAndOthersAreUnaffected() async throws {
        let harness = try await ServerHarness.make()
        try await harness.serve(options: ServerOptions(maximumLineLength: 64 * 1024)) { _, _ in
            try await LineClient.with(path: harness.socketPath) { bystander in
                try await bystander.request(1, "subscribe", #"{"app":"\#(Self.app)"}"#)
                #expect(try await bystander.next(where: isResponse(1)) != nil)
                try await LineClient.with(path: harness.socketPath) { client in
                    try await client.send("{not json\n")
                    #expect(try await client.next()?.errorCode == -32700)
                    try await client.send(bytes: [0xff, 0xfe, 0x7b, 0x0a])  // invalid UTF-8
                    #expect(try await client.next()?.errorCode == -32700)
                    // A batch of three non-requests: one array of three invalid-request errors.
                    try await client.send("[1,2,3]\n")
                    let batch = try #require(try await client.nextArray())
                    #expect(batch.count == 3)
                    #expect(batch.allSatisfy { $0.errorCode == -32600 && $0["id"] is NSNull })
                    try await client.send(#"{"jsonrpc":"1.0","id":3,"method":"status"}"# + "\n")
                    #expect(try await client.next()?.errorCode == -32600)
                    try await client.request(4, "reticulateSplines")
                    #expect(try await client.next()?.errorCode == -32601)
                    try await client.request(5, "subscribe", #"{"app":42}"#)
                    #expect(try await client.next()?.errorCode == -32602)
                    try await client.request(6, "subscribe", #"{"app":"../../etc"}"#)
                    let badID = try #require(try await client.next())
                    #expect(badID.errorCode == -32602)
                    #expect(badID.errorReason == "invalid-app-id")
                    try await client.request(7, "simulate", #"{"app":"\#(Self.app)","outcome":"maybe"}"#)
                    #expect(try await client.next()?.errorCode == -32602)
                    // The message names what is missing, the params member itself included.
                    try await client.send(#"{"jsonrpc":"2.0","id":21,"method":"subscribe"}"# + "\n")
                    let noParams = try #require(try await client.next())
                    #expect(noParams.errorCode == -32602)
                    #expect(noParams.id == 21)
                    #expect(noParams.error?["message"] as? String == #"invalid params for subscribe: missing params: expected an object {"app": …}"#)
                    try await client.request(22, "simulate", #"{"app":"\#(Self.app)"}"#)
                    #expect(try await client.next()?.error?["message"] as? String == #"invalid params for simulate: missing outcome: expected "ready", "failed" or "no-update""#)
                    // Null is not absent: checkForUpdate with null params is refused, not a check of every app.
                    try await client.send(#"{"jsonrpc":"2.0","id":23,"method":"checkForUpdate","params":null}"# + "\n")
                    let nullParams = try #require(try await client.next())
                    #expect(nullParams.errorCode == -32602)
                    #expect(nullParams.id == 23)
                    // An unknown method is that, whatever its params; a notification with bad params gets nothing.
                    try await client.request(24, "reticulateSplines", #"{"app":42}"#)
                    #expect(try await client.next()?.errorCode == -32601)
                    try await client.send(#"{"jsonrpc":"2.0","method":"subscribe","params":{"app":42}}"# + "\n")
                    try await client.request(25, "unsubscribe", #"{"app":"\#(Self.app)"}"#)
                    #expect(try await client.next()?.id == 25)
                    try await client.send(String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n")
                    #expect(try await client.next()?.errorCode == -32700)
                    // A high surrogate before a non-surrogate escape (found by the fuzzer: it
                    // crashed the duplicate-key scanner with an arithmetic overflow).
                    try await client.send(#"{"jsonrpc":"2.0","id":9,"method":"status","params":{"x":"\ud83d[ude00\u0000"}}"# + "\n")
                    #expect(try await client.next() != nil)
                    // Still served after all that:
                    try await client.request(8, "status")
                    #expect(try await client.next()?.result?["daemon"] != nil)
                    // A line over the limit: an error, then this client alone is disconnected.
                    try await client.send(String(repeating: "x", count: 100 * 1024) + "\n")
                    #expect(try await client.next()?.errorCode == -32600)
                    #expect(await client.isClosed())
                }
                try await bystander.request(2, "status")
                #expect(try await bystander.next(where: isResponse(2))?.result != nil)
            }
        }
        await harness.remove()
    }

    @Test func subscriptionsPerConnectionAreBounded() async throws {
        let harness = try await ServerHarness.make()
        try await harness.serve(options: ServerOptions(maximumSubscriptionsPerConnection: 3)) { _, _ in
            try await LineClient.with(path: harness.socketPath) { client in
                for index in 0..<3 {
                    try await client.request(index, "subscribe", #"{"app":"com.example.app\#(index)"}"#)
                    #expect(try await client.next(where: isResponse(index))?.result != nil)
                }
                try await client.request(3, "subscribe", #"{"app":"com.example.app3"}"#)
                let refused = try #require(try await client.next(where: isResponse(3)))
                #expect(refused.errorCode == 1012)
                #expect(refused.errorReason == "too-many-subscriptions")
                // Subscribing again to an app already subscribed to is not a new subscription.
                try await client.request(4, "subscribe", #"{"app":"com.example.app0"}"#)
                #expect(try await client.next(where: isResponse(4))?.result != nil)
                try await client.request(5, "unsubscribe", #"{"app":"com.example.app1"}"#)
                #expect(try await client.next(where: isResponse(5))?.result != nil)
                try await client.request(6, "subscribe", #"{"app":"com.example.app3"}"#)
                #expect(try await client.next(where: isResponse(6))?.result != nil)
            }
        }
        await harness.remove()
    }

    /// The first read buffer's size is taken within NIO's bounds, however it is set, and a
    /// request larger than the first buffer still arrives whole.
    @Test(arguments: [0, 64, 512, 1 << 30])
    func anyInitialReadBufferSizeServes(_ size: Int) async throws {
        let harness = try await ServerHarness.make()
        try await harness.serve(options: ServerOptions(initialReadBufferSize: size)) { _, _ in
            try await LineClient.with(path: harness.socketPath) { client in
                let padding = String(repeating: " ", count: 4096)
                try await client.request(1, "subscribe", #"{"app":"com.example.app0"}"# + padding)
                #expect(try await client.next(where: isResponse(1))?.result != nil)
            }
        }
        await harness.remove()
    }

    /// An overlong line is refused in its turn: the request before it, sent in the same
    /// write, is answered first.
    @Test func anOverlongLineIsRefusedAfterTheRequestBeforeIt() async throws {
        let harness = try await ServerHarness.make()
        try await harness.serve(options: ServerOptions(maximumLineLength: 64 * 1024)) { _, _ in
            try await LineClient.with(path: harness.socketPath) { client in
                try await client.send(
                    #"{"jsonrpc":"2.0","id":1,"method":"subscribe","params":{"app":"\#(Self.app)"}}"# + "\n"
                        + String(repeating: "x", count: 100 * 1024) + "\n"
                )
                #expect(try await client.next()?.id == 1)
                #expect(try await client.next()?.errorCode == -32600)
                #expect(await client.isClosed())
            }
        }
        await harness.remove()
    }

    /// With the repository down, every subscribe used to start a check of its own: ten
    /// clients subscribing brought ten index fetches, and ten failures to every listener.
    @Test func subscribersArrivingWhileTheRepositoryFailsBringOneCheck() async throws {
        let harness = try await ServerHarness.make(http: true)
        try harness.repo.publish(Self.app, "1.0.0")
        // Every subscribe finds the app's last check stale.
        try await harness.serve(options: ServerOptions(checkInterval: .zero)) { engine, _ in
            try await engine.install(AppID(Self.app))
            harness.http!.setFault(.status(503), for: "/index.signed")
            let fetchesBefore = harness.http!.requests(to: "/index.signed").count
            try await LineClient.with(path: harness.socketPath) { first in
                try await first.request(1, "subscribe", #"{"app":"\#(Self.app)"}"#)
                #expect(try await first.next(where: isResponse(1)) != nil)
                #expect(try await first.next(where: isEvent("onUpdateFailed")) != nil)
                for id in 2...10 {
                    try await LineClient.with(path: harness.socketPath) { later in
                        try await later.request(id, "subscribe", #"{"app":"\#(Self.app)"}"#)
                        #expect(try await later.next(where: isResponse(id)) != nil)
                        // The failure arrives from the replay.
                        #expect(try await later.next(where: isEvent("onUpdateFailed"))?.params["replay"] as? Bool == true)
                    }
                }
                // Whatever check was still to start has had time to, and to be announced.
                try await Task.sleep(for: .milliseconds(500))
                try await first.request(11, "status")
                var failuresHeard = 0
                while let message = try await first.next(), message.id != 11 {
                    if message.method == "onUpdateFailed" { failuresHeard += 1 }
                }
                #expect(failuresHeard == 0)
            }
            #expect(harness.http!.requests(to: "/index.signed").count - fetchesBefore == 1)
        }
        await harness.remove()
    }

    @Test func aClientDisconnectingMidRequestDoesNotDisturbTheDaemon() async throws {
        let harness = try await ServerHarness.make(http: true)
        try harness.repo.publish(Self.app, "1.0.0")
        harness.http!.setFault(.hold, for: "/index.signed")
        let http = harness.http!
        try await harness.serve { engine, _ in
            try await LineClient.with(path: harness.socketPath) { client in
                try await client.request(1, "install", #"{"app":"\#(Self.app)"}"#)
                // The install is under way: its fetch waits at the server.
                try await waitUntil { http.heldRequests > 0 }
                client.close()
            }
            http.setFault(nil, for: "/index.signed")
            http.releaseHeldRequests()
            // The install the client asked for still completes, and the daemon serves others.
            try await waitUntil { harness.current(Self.app) == "versions/1.0.0" }
            try await LineClient.with(path: harness.socketPath) { client in
                try await client.request(1, "status")
                let status = try #require(try await client.next(where: isResponse(1)))
                #expect((status.result?["apps"] as? [[String: Any]])?.first?["installedVersion"] as? String == "1.0.0")
            }
        }
        await harness.remove()
    }

    @Test func aClientThatNeverReadsIsDisconnectedWithoutBlockingOthers() async throws {
        let harness = try await ServerHarness.make()
        try harness.repo.publish(Self.app, "1.0.0")
        try await harness.serve(options: ServerOptions(maximumPendingBytes: 64 * 1024)) { engine, _ in
            try await engine.install(AppID(Self.app))
            try await LineClient.with(path: harness.socketPath) { reader in
                try await reader.request(1, "subscribe", #"{"app":"\#(Self.app)"}"#)
                #expect(try await reader.next(where: isResponse(1)) != nil)
                // A raw socket that subscribes and then never reads.
                // Its subscribe is handled among the first rounds; the rest overflow it.
                let silent = try silentSubscriber(path: harness.socketPath, app: Self.app)
                defer { close(silent) }
                for round in 0..<400 {
                    try await reader.request(1000 + round, "simulate", #"{"app":"\#(Self.app)","outcome":"ready"}"#)
                    #expect(try await reader.next(where: isResponse(1000 + round)) != nil, "round \(round)")
                }
                #expect(peerClosed(silent))
            }
        }
        await harness.remove()
    }

    @Test func simulateSendsTheSequenceWithoutTouchingTheDisk() async throws {
        let harness = try await ServerHarness.make()
        try harness.repo.publish(Self.app, "1.0.0")
        try await harness.serve { engine, _ in
            try await engine.install(AppID(Self.app))
            try await LineClient.with(path: harness.socketPath) { client in
                try await client.request(1, "subscribe", #"{"app":"\#(Self.app)"}"#)
                _ = try await client.next(where: isResponse(1))
                try await client.request(2, "simulate", #"{"app":"\#(Self.app)","outcome":"failed"}"#)
                let checked = try await client.next { $0.method == "onCheckForUpdate" && $0.params["version"] as? String == "1.0.1-simulated" }
                #expect(checked?.params["hasUpdate"] as? Bool == true)
                let failed = try #require(try await client.next(where: isEvent("onUpdateFailed")))
                #expect((failed.params["error"] as? [String: Any])?["reason"] as? String == "simulated")
                try await client.request(3, "simulate", #"{"app":"\#(Self.app)","outcome":"ready"}"#)
                let ready = try #require(try await client.next(where: isEvent("onUpdateReady")))
                #expect(ready.params["version"] as? String == "1.0.1-simulated")
                try await client.request(4, "applyUpdate", #"{"app":"\#(Self.app)"}"#)
                let applied = try #require(try await client.next(where: isResponse(4)))
                #expect(applied.result?["simulated"] as? Bool == true)
                #expect(try await client.next(where: isEvent("onUpdateApplied"))?.params["simulated"] as? Bool == true)
                try await client.request(5, "simulate", #"{"app":"\#(Self.app)","outcome":"no-update"}"#)
                _ = try await client.next(where: isResponse(5))
                #expect(try await client.next(where: isEvent("onCheckForUpdate"))?.params["hasUpdate"] as? Bool == false)
            }
            #expect(harness.current(Self.app) == "versions/1.0.0")
        }
        await harness.remove()
    }

    @Test func aLiveDaemonIsNeverDisplacedButAStaleSocketIsReplaced() async throws {
        let harness = try await ServerHarness.make()
        // A stale socket file: bound once, its owner gone.
        let stale = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        try bindUnix(stale, harness.socketPath)
        close(stale)
        try await harness.serve { engine, _ in
            let second = UpdateServer(engine: engine, daemonVersion: "test", logger: .init(label: "test"))
            let error = await #expect(throws: UpdateError.self) { _ = try await second.bind(path: harness.socketPath) }
            #expect(error?.message.contains("already serving") == true)
        }
        await harness.remove()
    }
}
