import Foundation
import MiniupdateCore
import MiniupdateEngine
import MiniupdateRepository
import MiniupdateServer
import MiniupdateTestSupport
import Testing

/// The order `docs/protocol.md` promises: a request's response comes after the events its
/// call caused, except `subscribe`, whose response comes before its replay; and JSON-RPC
/// batches, answered with one array.
@Suite struct ProtocolOrderTests {
    static let app = "com.example.weather"

    @Test func eventsComeBeforeTheResponseOfTheCallThatCausedThem() async throws {
        let harness = try await ServerHarness.make()
        try harness.repo.publish(Self.app, "1.0.0")
        try await harness.serve { engine, _ in
            try await engine.install(AppID(Self.app))
            try await LineClient.with(path: harness.socketPath) { client in
                try await client.request(1, "subscribe", #"{"app":"\#(Self.app)"}"#)
                #expect(try await client.next()?.id == 1)
                // The cold start's check: its event, and nothing else, since nothing changed.
                #expect(try await client.next()?.method == "onCheckForUpdate")

                try harness.repo.publish(Self.app, "1.1.0")
                try await client.request(2, "checkForUpdate", #"{"app":"\#(Self.app)"}"#)
                let event = try #require(try await client.next())
                #expect(event.method == "onCheckForUpdate")
                #expect(event.params["hasUpdate"] as? Bool == true)
                let response = try #require(try await client.next(where: { $0["id"] != nil }))
                #expect(response.id == 2)
                #expect(response.result?["hasUpdate"] as? Bool == true)
                // Then the download, in the background: progress, and ready.
                var message = try #require(try await client.next())
                while message.method == "onDownloadProgress" { message = try #require(try await client.next()) }
                #expect(message.method == "onUpdateReady")
                #expect(message.params["version"] as? String == "1.1.0")

                try await client.request(3, "applyUpdate", #"{"app":"\#(Self.app)"}"#)
                let applied = try #require(try await client.next())
                #expect(applied.method == "onUpdateApplied")
                #expect(applied.params["previousVersion"] as? String == "1.0.0")
                let answer = try #require(try await client.next())
                #expect(answer.id == 3)
                #expect(answer.result?["version"] as? String == "1.1.0")

                // A simulated update keeps the same order, and its applied event says what it replaced.
                try await client.request(4, "simulate", #"{"app":"\#(Self.app)","outcome":"ready"}"#)
                #expect(try await client.next(where: isResponse(4)) != nil)
                try await client.request(5, "applyUpdate", #"{"app":"\#(Self.app)"}"#)
                let simulated = try #require(try await client.next(where: { $0.method == "onUpdateApplied" || $0.id == 5 }))
                #expect(simulated.method == "onUpdateApplied")
                #expect(simulated.params["simulated"] as? Bool == true)
                #expect(simulated.params["previousVersion"] as? String == "1.1.0")
                #expect(try await client.next(where: isResponse(5))?.result?["simulated"] as? Bool == true)
            }
        }
        await harness.remove()
    }

    @Test func aBatchIsAnsweredWithOneArrayInOrder() async throws {
        let harness = try await ServerHarness.make()
        try harness.repo.publish(Self.app, "1.0.0")
        try await harness.serve { engine, _ in
            try await engine.install(AppID(Self.app))
            try await LineClient.with(path: harness.socketPath) { client in
                let batch = [
                    #"{"jsonrpc":"2.0","id":1,"method":"subscribe","params":{"app":"\#(Self.app)"}}"#,
                    #"{"jsonrpc":"2.0","method":"status"}"#,  // a notification: no answer
                    #"{"jsonrpc":"2.0","id":"two","method":"reticulateSplines"}"#,
                    #"7"#,
                    #"{"jsonrpc":"2.0","id":3,"method":"unsubscribe","params":{"app":"\#(Self.app)"}}"#,
                ]
                try await client.send("[" + batch.joined(separator: ",") + "]\n")
                // A subscribe's replay and cold-start events are events of the connection:
                // they may come before the batch's answer, which is one line.
                var answer: [[String: Any]]?
                while answer == nil {
                    let line = try #require(await client.nextLine())
                    let message = try JSONSerialization.jsonObject(with: Data(line.utf8))
                    if let array = message as? [[String: Any]] {
                        answer = array
                    } else {
                        #expect((message as? [String: Any])?.method?.hasPrefix("on") == true, "\(line)")
                    }
                }
                let answers = try #require(answer)
                #expect(answers.count == 4)
                #expect(answers[0].id == 1 && answers[0].result?["version"] as? String == "1.0.0")
                #expect(answers[1]["id"] as? String == "two" && answers[1].errorCode == -32601)
                #expect(answers[2]["id"] is NSNull && answers[2].errorCode == -32600)
                #expect(answers[3].id == 3 && answers[3].result != nil)

                // A batch of notifications only gets no answer at all; the next request does.
                try await client.send(#"[{"jsonrpc":"2.0","method":"status"},{"jsonrpc":"2.0","method":"status"}]"# + "\n")
                try await client.request(9, "status")
                #expect(try await client.next(where: { $0["id"] != nil })?.id == 9)
            }
        }
        await harness.remove()
    }
}

/// An app's cold start is its first subscribe while no other connection subscribes to it,
/// and the daemon checks the app at each one, as the seed's platform does at every cold
/// start: that is how an app process triggers its own check.
@Suite struct ColdStartTests {
    static let app = "com.example.weather"

    /// The first fresh (not replayed) `onCheckForUpdate` on `client`.
    static func freshCheck(_ client: LineClient) async throws -> [String: Any]? {
        try await client.next { $0.method == "onCheckForUpdate" && $0.params["replay"] == nil }
    }

    @Test func everyColdStartChecksTheApp() async throws {
        let harness = try await ServerHarness.make()
        try harness.repo.publish(Self.app, "1.0.0")
        try await harness.serve(options: ServerOptions(checkRetryInterval: .zero)) { engine, _ in
            try await engine.install(AppID(Self.app))
            // First start: nothing new.
            try await LineClient.with(path: harness.socketPath) { client in
                try await client.request(1, "subscribe", #"{"app":"\#(Self.app)"}"#)
                #expect(try await Self.freshCheck(client)?.params["hasUpdate"] as? Bool == false)
            }
            // The publisher releases 1.1.0; the app's next cold start finds it, with no
            // request but its subscribe.
            try harness.repo.publish(Self.app, "1.1.0")
            try await LineClient.with(path: harness.socketPath) { client in
                try await client.request(1, "subscribe", #"{"app":"\#(Self.app)"}"#)
                let checked = try #require(try await Self.freshCheck(client))
                #expect(checked.params["hasUpdate"] as? Bool == true)
                #expect(checked.params["version"] as? String == "1.1.0")
                #expect(try await client.next(where: isEvent("onUpdateReady"))?.params["version"] as? String == "1.1.0")
            }
        }
        await harness.remove()
    }

    /// A repository that is down is asked once per `check-retry-interval`, however many
    /// apps start: the next cold start within it gets the failure from the replay.
    @Test func aColdStartWithinTheRetryIntervalReplaysTheLastOutcome() async throws {
        let harness = try await ServerHarness.make(http: true)
        try harness.repo.publish(Self.app, "1.0.0")
        try await harness.serve { engine, _ in
            try await engine.install(AppID(Self.app))
            harness.http!.setFault(.status(503), for: "/index.signed")
            try await LineClient.with(path: harness.socketPath) { client in
                try await client.request(1, "subscribe", #"{"app":"\#(Self.app)"}"#)
                #expect(try await client.next(where: isEvent("onUpdateFailed"))?.params["replay"] == nil)
            }
            let fetches = harness.http!.requests(to: "/index.signed").count
            try await LineClient.with(path: harness.socketPath) { client in
                try await client.request(1, "subscribe", #"{"app":"\#(Self.app)"}"#)
                #expect(try await client.next(where: isEvent("onUpdateFailed"))?.params["replay"] as? Bool == true)
                // The connection's next request is answered after its subscribe was handled.
                try await client.request(2, "status")
                #expect(try await client.next(where: isResponse(2)) != nil)
            }
            #expect(harness.http!.requests(to: "/index.signed").count == fetches)
        }
        await harness.remove()
    }
}
