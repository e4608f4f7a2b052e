import MiniupdateCore
@testable import MiniupdateDaemon
import MiniupdateEngine
import MiniupdateTestSupport
import Testing

/// The one-line status systemd shows (`systemctl status`, STATUS=).
@Suite struct StatusLineTests {
    @Test func aRejectedReloadLeadsTheLineAndCountsArePlural() async throws {
        let harness = try await ServerHarness.make()
        try harness.repo.publish("com.example.weather", "1.0.0")
        try await harness.serve { engine, _ in
            var line = StatusService.describe(await engine.status(), reloadError: nil)
            #expect(line.hasPrefix("Idle: 0 apps, 0 updates ready, last check never"), "\(line)")
            _ = try await engine.install(AppID("com.example.weather"))
            line = StatusService.describe(await engine.status(), reloadError: nil)
            #expect(line.hasPrefix("Idle: 1 app, 0 updates ready"), "\(line)")

            let rejected = UpdateError(.invalidArgument, "/etc/miniupdate/miniupdate.conf:3: max-files: expected a positive whole number")
            line = StatusService.describe(await engine.status(), reloadError: rejected)
            #expect(line.hasPrefix("Reload rejected (running the previous configuration): /etc/miniupdate/miniupdate.conf:3: max-files"), "\(line)")
            #expect(line.contains("Idle: 1 app"))
        }
        await harness.remove()
    }
}
