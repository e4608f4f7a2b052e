import Testing

/// Polls `condition` (asynchronous or not) for up to ten seconds.
public func waitUntil(_ condition: @Sendable () async -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    for _ in 0..<1000 {
        if await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("condition not met within 10 s", sourceLocation: sourceLocation)
}

