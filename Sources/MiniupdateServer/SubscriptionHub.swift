import MiniupdateCore
import MiniupdateEngine
import MiniupdateProtocol
import MiniupdateRepository
import NIOCore
import Synchronization

/// Who listens to which app, and what each app's listeners have been told, so a late
/// subscriber is told the same (the replay).
///
/// Events flow one way: the engine's event stream → ``publish(_:)`` → each subscriber. Each
/// event is encoded once, whatever the number of subscribers. Subscribing, replaying and
/// publishing all happen under one lock, so a subscriber gets the replay and then every
/// live event, in order, with none missing and none twice.
final class SubscriptionHub: Sendable {
    /// What a late subscriber of one app must learn.
    ///
    /// There is one per app that had an event, 10,000 after a check of 10,000 apps, so it
    /// is kept small (56 bytes): the app is the table's key, and the rare outcomes are boxed.
    struct Replay: Sendable {
        /// The last check's outcome since the daemon started.
        var checked: Checked?
        var outcome: Outcome?
        /// Bumped by every event of the app: a subscribe that read the engine's status
        /// before an event can tell that its answer is stale.
        var sequence: UInt64 = 0

        struct Checked: Sendable {
            var hasUpdate: Bool
            var version: String?
        }

        indirect enum Outcome: Sendable {
            case ready(version: String)
            case failed(UpdateFailedEvent)
        }
    }

    private struct State {
        var connections: [UInt64: ClientConnection] = [:]
        var subscribers: [String: SubscriberGroups] = [:]
        var replay: [String: Replay] = [:]
        /// See ``eventsEncoded``.
        var eventsEncoded: UInt64 = 0
    }

    private let state = Mutex(State())

    /// Which engine batches have been handed to the connections' loops.
    let publishedEvents: PublishedSequence

    /// `start`: the engine's event sequence when the server subscribed to its events.
    init(publishedFrom start: UInt64 = 0) {
        publishedEvents = PublishedSequence(start)
    }

    var connectionCount: Int { state.withLock { $0.connections.count } }

    /// Registers `connection` unless `limit` connections are registered already.
    func admit(_ connection: ClientConnection, limit: Int) -> Bool {
        state.withLock { state in
            guard state.connections.count < limit else { return false }
            state.connections[connection.id] = connection
            return true
        }
    }

    func remove(_ connection: ClientConnection) {
        let apps = connection.subscriptions.withLock { $0 }
        state.withLock { state in
            state.connections[connection.id] = nil
            for app in apps { state.subscribers[app]?.remove(connection) }
        }
    }

    /// Seeds the replay from what the engine knew at start-up: staged updates and failures.
    func seed(from outcomes: [(app: AppID, staged: Version?, error: UpdateError?)]) {
        state.withLock { state in
            for (app, staged, error) in outcomes {
                if let staged {
                    state.replay[app.rawValue, default: Replay()].outcome = .ready(version: staged.text)
                } else if let error {
                    let event = UpdateFailedEvent(app: app.rawValue, version: nil, error: ErrorPayload(error))
                    state.replay[app.rawValue, default: Replay()].outcome = .failed(event)
                }
            }
        }
    }

    /// The number of events `app` has had; see ``subscribe(_:to:ifSequence:response:)``.
    func sequence(of app: String) -> UInt64 {
        state.withLock { $0.replay[app]?.sequence ?? 0 }
    }

    /// What ``subscribe(_:to:ifSequence:response:)`` did.
    enum SubscribeOutcome: Equatable {
        /// An event of the app came since the expected sequence number: nothing was done,
        /// because the response was computed from a stale status.
        case stale
        /// Subscribed (or the connection was gone already). `coldStart` when no other
        /// connection subscribed to the app: the app's cold start.
        case subscribed(coldStart: Bool)
    }

    /// Adds `connection` to `app`'s listeners, sends `response`, then the replay. When
    /// `expected` is given and an event of the app came since that sequence number, it
    /// does nothing: see ``SubscribeOutcome/stale``. A connection that is already gone is
    /// not added.
    @discardableResult
    func subscribe(_ connection: ClientConnection, to app: String, ifSequence expected: UInt64? = nil, response: [UInt8]) -> SubscribeOutcome {
        state.withLock { state in
            if let expected, (state.replay[app]?.sequence ?? 0) != expected { return .stale }
            // Its `remove` has run: added now, it would stay a listener for good.
            guard state.connections[connection.id] != nil else { return .subscribed(coldStart: false) }
            connection.subscriptions.withLock { _ = $0.insert(app) }
            let coldStart = state.subscribers[app]?.isEmpty ?? true
            state.subscribers[app, default: SubscriberGroups()].insert(connection)
            var buffer = ByteBuffer(bytes: response)
            if let replay = state.replay[app] {
                for event in Self.replayEvents(replay, app: app) { buffer.writeBytes(event.line) }
            }
            // Queued under the lock, it keeps its place among the events' fan-outs.
            if buffer.readableBytes > 0 { connection.send(buffer) }
            return .subscribed(coldStart: coldStart)
        }
    }

    func unsubscribe(_ connection: ClientConnection, from app: String) {
        connection.subscriptions.withLock { _ = $0.remove(app) }
        state.withLock { $0.subscribers[app]?.remove(connection) }
    }

    private static func replayEvents(_ replay: Replay, app: String) -> [DaemonEvent] {
        var events: [DaemonEvent] = []
        if let checked = replay.checked {
            events.append(.checkForUpdate(CheckForUpdateEvent(app: app, hasUpdate: checked.hasUpdate, version: checked.version, replay: true)))
        }
        switch replay.outcome {
        case .ready(let version)?:
            events.append(.updateReady(UpdateReadyEvent(app: app, version: version, replay: true)))
        case .failed(var event)?:
            event.replay = true
            events.append(.updateFailed(event))
        case nil:
            break
        }
        return events
    }

    /// Turns engine events into notifications, records them for replays, and sends each to
    /// its app's subscribers: one lock and one task per event loop for the whole batch, and
    /// no encoding for an app nobody listens to. Then the batch counts as published: a
    /// response queued after this reaches each client after the batch's events.
    func publish(_ batch: EngineEventBatch) {
        state.withLock { state in
            var outbox = Outbox()
            for event in batch {
                let (notification, update) = Self.notification(for: event)
                // A simulated event changes nothing that a later listener is told.
                Self.deliver(notification, to: event.app.rawValue, updating: event.simulated ? { _ in } : update, state: &state, outbox: &outbox)
            }
            outbox.send()
        }
        publishedEvents.advance(to: batch.sequence)
    }

    /// An event's notification (made only when asked for) and its effect on the app's replay.
    private static func notification(for event: EngineEvent) -> (event: () -> DaemonEvent, update: (inout Replay) -> Void) {
        let app = event.app.rawValue
        let simulated: Bool? = event.simulated ? true : nil
        switch event.kind {
        case .checked(let hasUpdate, let version):
            let params = CheckForUpdateEvent(app: app, hasUpdate: hasUpdate, version: version?.text)
            return ({ .checkForUpdate(params) }, { replay in
                replay.checked = Replay.Checked(hasUpdate: hasUpdate, version: params.version)
                if !hasUpdate, case .failed? = replay.outcome { replay.outcome = nil }
            })
        case .progress(let version, let bytes, let total):
            return ({ .downloadProgress(DownloadProgressEvent(app: app, version: version.text, bytes: bytes, total: total)) }, { _ in })
        case .ready(let version):
            return ({ .updateReady(UpdateReadyEvent(app: app, version: version.text)) }, {
                $0.outcome = .ready(version: version.text)
            })
        case .failed(let version, let error):
            let params = UpdateFailedEvent(app: app, version: version?.text, error: ErrorPayload(error))
            return ({ .updateFailed(params) }, { replay in
                // A staged update stays ready whatever a later attempt does.
                if case .ready? = replay.outcome { return }
                replay.outcome = .failed(params)
            })
        case .applied(let version, let previous):
            return ({ .updateApplied(UpdateAppliedEvent(app: app, version: version.text, previousVersion: previous?.text, simulated: simulated)) }, afterSwitch)
        case .rolledBack(let version, let from):
            return ({ .updateApplied(UpdateAppliedEvent(app: app, version: version.text, previousVersion: from.text)) }, afterSwitch)
        }
    }

    private static func afterSwitch(_ replay: inout Replay) {
        // An apply is not a check: the next check's outcome is what late listeners get.
        replay.outcome = nil
        replay.checked = nil
    }

    private static func deliver(_ event: () -> DaemonEvent, to app: String, updating update: (inout Replay) -> Void, state: inout State, outbox: inout Outbox) {
        func record(_ replay: inout Replay) {
            replay.sequence += 1
            update(&replay)
        }
        record(&state.replay[app, default: Replay()])
        guard let subscribers = state.subscribers[app], !subscribers.isEmpty else { return }
        // Encoded once for all its subscribers, whatever their number.
        state.eventsEncoded += 1
        outbox.add(event().line, to: subscribers)
    }

    /// How many live events have been encoded for delivery: one per event that has
    /// subscribers, never one per subscriber (`HubEncodingTests` reads it).
    var eventsEncoded: UInt64 { state.withLock { $0.eventsEncoded } }

    /// Sends `line` to every connection, subscribed or not, then closes them.
    func closeAll(sending line: [UInt8]) {
        let connections = state.withLock { Array($0.connections.values) }
        let buffer = ByteBuffer(bytes: line)
        for connection in connections { connection.sendAndClose(buffer) }
    }
}

/// One app's subscribers, grouped by the event loop each connection runs on, so that a
/// fan-out hands every loop its whole group at once instead of sorting clients per event.
struct SubscriberGroups {
    fileprivate struct Group {
        let loop: any EventLoop
        let sockets: NIOLoopBoundBox<LoopSockets>
        /// In an array, for a fan-out to read in order; ``positions`` finds one to remove.
        var subscribers: ContiguousArray<Subscriber> = []
        var positions: [UInt64: Int] = [:]
    }

    fileprivate var byLoop: [ObjectIdentifier: Group] = [:]

    var isEmpty: Bool { byLoop.isEmpty }

    mutating func insert(_ connection: ClientConnection) {
        let loop = connection.eventLoop
        let key = ObjectIdentifier(loop)
        // Taken out and put back, so that its arrays have one owner and grow in place.
        var group = byLoop.removeValue(forKey: key) ?? Group(loop: loop, sockets: connection.sockets)
        assert(group.sockets === connection.sockets, "one LoopSockets per event loop")
        if group.positions[connection.id] == nil {
            group.positions[connection.id] = group.subscribers.count
            group.subscribers.append(Subscriber(connection))
        }
        byLoop[key] = group
    }

    mutating func remove(_ connection: ClientConnection) {
        let key = ObjectIdentifier(connection.eventLoop)
        // As in `insert`: taken out first, so that removing copies nothing.
        guard var group = byLoop.removeValue(forKey: key) else { return }
        guard let position = group.positions.removeValue(forKey: connection.id) else {
            byLoop[key] = group
            return
        }
        let last = group.subscribers.removeLast()
        if position < group.subscribers.count {
            group.subscribers[position] = last
            group.positions[last.id] = position
        }
        if !group.subscribers.isEmpty { byLoop[key] = group }
    }
}

/// Messages gathered under the hub's lock, handed to each event loop as one task that
/// writes them to all of that loop's clients in one go (not one task per client).
///
/// Each loop gets its own copy of a message: thousands of writes retain and release the
/// buffer they share, and a buffer shared between loops would bounce its reference count
/// between CPUs on every one of them.
struct Outbox {
    private var byLoop: [ObjectIdentifier: (loop: any EventLoop, sockets: NIOLoopBoundBox<LoopSockets>, messages: [(subscribers: ContiguousArray<Subscriber>, buffer: ByteBuffer)])] = [:]

    mutating func add(_ bytes: [UInt8], to subscribers: SubscriberGroups) {
        for (key, group) in subscribers.byLoop {
            byLoop[key, default: (group.loop, group.sockets, [])].messages.append((group.subscribers, ByteBuffer(bytes: bytes)))
        }
    }

    /// Call once, under the lock that ordered the messages, so every client gets them in
    /// that order.
    func send() {
        for (loop, sockets, messages) in byLoop.values {
            loop.execute {
                let table = sockets.value
                for (subscribers, buffer) in messages { table.send(buffer, to: subscribers) }
            }
        }
    }
}
