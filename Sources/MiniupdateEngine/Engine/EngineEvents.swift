import Synchronization

/// The engine's events, in order, as an `AsyncSequence` of ``EngineEvent``.
///
/// They travel in batches: every event of one engine step (a check of 10,000 apps, say)
/// is handed over at once, so a consumer wakes once per step, not once per app.
/// Consumers that can act on a whole step at once iterate ``batches`` instead.
public struct EngineEvents: AsyncSequence, Sendable {
    public typealias Element = EngineEvent

    /// The same events, one array per engine step; never an empty array.
    public let batches: AsyncStream<[EngineEvent]>

    public struct AsyncIterator: AsyncIteratorProtocol {
        var batches: AsyncStream<[EngineEvent]>.AsyncIterator
        var pending: [EngineEvent] = []
        var next = 0

        public mutating func next() async -> EngineEvent? {
            while next == pending.count {
                guard let batch = await batches.next() else { return nil }
                pending = batch
                next = 0
            }
            defer { next += 1 }
            return pending[next]
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(batches: batches.makeAsyncIterator())
    }
}

/// Hands every batch of events to every subscriber, synchronously and in one order.
///
/// Emitting does not hop to the engine actor, so a download task reports progress as it
/// goes, and the `ready` that follows it is always seen after it.
final class EventBroadcaster: Sendable {
    private struct State {
        var subscribers: [UInt64: AsyncStream<[EngineEvent]>.Continuation] = [:]
        var nextID: UInt64 = 0
        var finished = false
    }

    private let state = Mutex(State())

    func subscribe() -> EngineEvents {
        let (stream, continuation) = AsyncStream.makeStream(of: [EngineEvent].self)
        let id: UInt64? = state.withLock { state in
            guard !state.finished else { return nil }
            state.nextID += 1
            state.subscribers[state.nextID] = continuation
            return state.nextID
        }
        guard let id else {
            continuation.finish()
            return EngineEvents(batches: stream)
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return EngineEvents(batches: stream)
    }

    func emit(_ events: [EngineEvent]) {
        guard !events.isEmpty else { return }
        // Yield under the lock: two emitters must not interleave differently per subscriber.
        state.withLock { state in
            for continuation in state.subscribers.values { continuation.yield(events) }
        }
    }

    func finish() {
        let subscribers = state.withLock { state in
            state.finished = true
            defer { state.subscribers.removeAll() }
            return Array(state.subscribers.values)
        }
        for continuation in subscribers { continuation.finish() }
    }
}
