import Foundation
import MiniupdateClient
import MiniupdateCore
import MiniupdateEngine
import MiniupdateRepository
import MiniupdateTestSupport
import Synchronization
import Testing

@Suite struct ClientSDKTests {
    static let app = "com.example.weather"

    final class Recorder: Sendable {
        let events = Mutex<[UpdateEvent]>([])
        let callbacks = Mutex<[String]>([])

        func count(_ match: (UpdateEvent) -> Bool) -> Int { events.withLock { $0.filter(match).count } }
    }

    @Test func theManagerMirrorsTheSeedAPIAndReconnectsWithoutDuplicates() async throws {
        let harness = try await ServerHarness.make()
        try harness.repo.publish(Self.app, "1.0.0")
        let recorder = Recorder()
        let manager = UpdateManager(app: Self.app, socketPath: harness.socketPath, reconnectDelay: .milliseconds(50))
        manager.onCheckForUpdate { res in recorder.callbacks.withLock { $0.append("check \(res.hasUpdate)") } }
        manager.onUpdateReady { info in recorder.callbacks.withLock { $0.append("ready \(info.version)") } }
        manager.onUpdateFailed { failure in recorder.callbacks.withLock { $0.append("failed \(failure.error.reason)") } }
        manager.onRestart { applied in recorder.callbacks.withLock { $0.append("restart \(applied.version) from \(applied.previousVersion ?? "-")") } }

        try await withThrowingTaskGroup(of: Void.self) { group in
            let events = manager.events()
            group.addTask { for await event in events { recorder.events.withLock { $0.append(event) } } }
            group.addTask { try await manager.run() }
            defer { group.cancelAll() }

            try await harness.serve { engine, _ in
                try await engine.install(AppID(Self.app))
                try harness.repo.publish(Self.app, "1.1.0")
                // The app's own check, as on a cold start.
                var checked = false
                for _ in 0..<100 where !checked {
                    checked = (try? await manager.checkForUpdate())?.hasUpdate == true
                    if !checked { try await Task.sleep(for: .milliseconds(20)) }
                }
                #expect(checked)
                try await waitUntil { recorder.count { $0 == .updateReady(version: "1.1.0") } == 1 }
            }
            // The daemon is gone; the manager keeps trying. A new daemon on the same state
            // replays "ready 1.1.0", which the manager has already delivered.
            try await harness.serve { _, server in
                try await waitUntil { server.clientCount == 1 }
                // What the manager was sent again on its new subscribe:
                try await LineClient.with(path: harness.socketPath) { probe in
                    try await probe.request(1, "subscribe", #"{"app":"\#(Self.app)"}"#)
                    let replayed = try await probe.next(where: isEvent("onUpdateReady"))
                    #expect(replayed?.params["replay"] as? Bool == true)
                }
                // The manager is subscribed again (its replay precedes the applied event,
                // so the counts below include whatever it was sent).
                let applied = try await manager.applyUpdate()
                #expect(applied == AppliedUpdate(version: "1.1.0", previousVersion: "1.0.0", simulated: false))
                try await waitUntil { recorder.callbacks.withLock { $0.last } == "restart 1.1.0 from 1.0.0" }
            }
        }
        let callbacks = recorder.callbacks.withLock { $0 }
        #expect(callbacks.filter { $0 == "ready 1.1.0" }.count == 1, "\(callbacks)")
        #expect(callbacks.filter { $0 == "check true" }.count == 1, "\(callbacks)")
        #expect(callbacks.last == "restart 1.1.0 from 1.0.0")
        #expect(recorder.count { if case .downloadProgress = $0 { true } else { false } } >= 1)
        #expect(harness.current(Self.app) == "versions/1.1.0")
        await harness.remove()
    }
}
