import MiniupdateRepository
import Synchronization

/// Something that happened to one app, in the order it happened.
public struct EngineEvent: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A check finished. `version` is the version on offer when `hasUpdate` is true.
        case checked(hasUpdate: Bool, version: Version?)
        /// Bytes of `version` downloaded so far, at most about four times a second.
        case progress(version: Version, bytes: Int64, total: Int64)
        /// `version` is verified and staged; applying it is instant.
        case ready(version: Version)
        /// A check, download or staging failed. `version` is the one being fetched, if any.
        case failed(version: Version?, error: UpdateError)
        /// `current` now points at `version`; `previous` is what it pointed at, if anything.
        case applied(version: Version, previous: Version?)
        /// An admin went back from `from` to `version`.
        case rolledBack(version: Version, from: Version)
    }

    public var app: AppID
    public var kind: Kind

    public init(app: AppID, kind: Kind) {
        self.app = app
        self.kind = kind
    }
}

/// Hands every event to every subscriber, synchronously and in one order.
///
/// Emitting does not hop to the engine actor, so a download task reports progress as it
/// goes, and the `ready` that follows it is always seen after it.
final class EventBroadcaster: Sendable {
    private struct State {
        var subscribers: [UInt64: AsyncStream<EngineEvent>.Continuation] = [:]
        var nextID: UInt64 = 0
        var finished = false
    }

    private let state = Mutex(State())

    func subscribe() -> AsyncStream<EngineEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: EngineEvent.self)
        let id: UInt64? = state.withLock { state in
            guard !state.finished else { return nil }
            state.nextID += 1
            state.subscribers[state.nextID] = continuation
            return state.nextID
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    func emit(_ event: EngineEvent) {
        // Yield under the lock: two emitters must not interleave differently per subscriber.
        state.withLock { state in
            for continuation in state.subscribers.values { continuation.yield(event) }
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
