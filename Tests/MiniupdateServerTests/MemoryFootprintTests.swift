@testable import MiniupdateServer
import Testing

/// Per-app state is multiplied by the installed apps (10,000 in the benchmark) and
/// per-connection state by the clients: these guard the sizes chosen for them.
@Suite struct MemoryFootprintTests {
    /// The hub keeps one replay per app that had an event: the app is its table's key and
    /// the rare outcomes are boxed, so a check of 10,000 apps costs 10,000 small entries.
    @Test func aReplayStaysSmall() {
        #expect(MemoryLayout<SubscriptionHub.Replay>.stride <= 56)
    }
}
