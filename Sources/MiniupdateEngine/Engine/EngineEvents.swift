import Synchronization

/// The events of one engine step, in order, and the step's place among all the engine's
/// steps: ``sequence`` counts from 1, one per batch, and never repeats.
public struct EngineEventBatch: RandomAccessCollection, Sendable {
    /// The batch's number: 1 for the engine's first, then one more for each.
    public let sequence: UInt64
    /// The step's events, in order.
    public let events: [EngineEvent]

    /// A batch numbered `sequence`.
    public init(sequence: UInt64, events: [EngineEvent]) {
        self.sequence = sequence
        self.events = events
    }

    /// The position of the first event: 0.
    public var startIndex: Int { events.startIndex }
    /// The position after the last event: the number of events.
    public var endIndex: Int { events.endIndex }
    /// The event at `position`.
    public subscript(position: Int) -> EngineEvent { events[position] }
}

/// The engine's events, in order, as an `AsyncSequence` of ``EngineEvent``.
///
/// They travel in batches: every event of one engine step (a check of 10,000 apps, say)
/// is handed over at once, so a consumer wakes once per step, not once per app.
/// Consumers that can act on a whole step at once iterate ``batches`` instead.
public struct EngineEvents: AsyncSequence, Sendable {
    /// One event of one app.
    public typealias Element = EngineEvent

    /// The same events, one batch per engine step; never an empty one.
    public let batches: AsyncStream<EngineEventBatch>
    /// The ``UpdateEngine/eventSequence`` when this stream began: its first batch is the
    /// one after it.
    public let startSequence: UInt64

    /// Hands out the events of each batch in turn.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var batches: AsyncStream<EngineEventBatch>.AsyncIterator
        var pending: [EngineEvent] = []
        var next = 0

        /// The next event, waiting for the next batch when this one is used up; nil once the
        /// engine has stopped (or the iterating task is cancelled).
        public mutating func next() async -> EngineEvent? {
            while next == pending.count {
                guard let batch = await batches.next() else { return nil }
                pending = batch.events
                next = 0
            }
            defer { next += 1 }
            return pending[next]
        }
    }

    /// An iterator over the events of ``batches``. It consumes ``batches``: iterate either
    /// the events or the batches of one ``EngineEvents`` value, not both.
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
        var subscribers: [UInt64: AsyncStream<EngineEventBatch>.Continuation] = [:]
        var nextID: UInt64 = 0
        /// The sequence number of the last batch emitted.
        var sequence: UInt64 = 0
        var finished = false
    }

    private let state = Mutex(State())

    /// The sequence number of the last batch emitted; 0 before the first.
    var sequence: UInt64 { state.withLock { $0.sequence } }

    func subscribe() -> EngineEvents {
        let (stream, continuation) = AsyncStream.makeStream(of: EngineEventBatch.self)
        let (id, start): (UInt64?, UInt64) = state.withLock { state in
            guard !state.finished else { return (nil, state.sequence) }
            state.nextID += 1
            state.subscribers[state.nextID] = continuation
            return (state.nextID, state.sequence)
        }
        guard let id else {
            continuation.finish()
            return EngineEvents(batches: stream, startSequence: start)
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return EngineEvents(batches: stream, startSequence: start)
    }

    func emit(_ events: [EngineEvent]) {
        guard !events.isEmpty else { return }
        // Numbered and yielded under the lock: two emitters must not interleave
        // differently per subscriber, and numbers follow the order subscribers see.
        state.withLock { state in
            state.sequence += 1
            let batch = EngineEventBatch(sequence: state.sequence, events: events)
            for continuation in state.subscribers.values { continuation.yield(batch) }
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
