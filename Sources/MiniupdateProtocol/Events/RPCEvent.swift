/// A notification the daemon sends: the conforming type is its params.
public protocol RPCEvent: Codable, Sendable, Equatable {
    /// The notification's method on the wire, such as `onUpdateReady`.
    static var name: String { get }
}

/// Every event of protocol v1, as one value: what a client's reading loop decodes each
/// notification into, and what the daemon encodes.
public enum DaemonEvent: Sendable, Equatable {
    /// `onCheckForUpdate`: a check of the app finished.
    case checkForUpdate(CheckForUpdateEvent)
    /// `onDownloadProgress`: how much of an update has been downloaded.
    case downloadProgress(DownloadProgressEvent)
    /// `onUpdateReady`: an update is staged and can be applied.
    case updateReady(UpdateReadyEvent)
    /// `onUpdateFailed`: a check, download, verification or staging failed.
    case updateFailed(UpdateFailedEvent)
    /// `onUpdateApplied`: the app's current version changed.
    case updateApplied(UpdateAppliedEvent)
    /// `onDaemonStopping`: the daemon is shutting down; the connection closes next.
    case daemonStopping(DaemonStoppingEvent)

    /// The event's params, whatever its kind.
    public var params: any RPCEvent {
        switch self {
        case .checkForUpdate(let event): event
        case .downloadProgress(let event): event
        case .updateReady(let event): event
        case .updateFailed(let event): event
        case .updateApplied(let event): event
        case .daemonStopping(let event): event
        }
    }

    /// The notification's method, such as `onUpdateReady`.
    public var name: String { type(of: params).name }

    /// The app the event is about; nil for `onDaemonStopping`.
    public var app: String? {
        switch self {
        case .checkForUpdate(let event): event.app
        case .downloadProgress(let event): event.app
        case .updateReady(let event): event.app
        case .updateFailed(let event): event.app
        case .updateApplied(let event): event.app
        case .daemonStopping: nil
        }
    }

    /// Whether the daemon sent it as part of the replay after a `subscribe`.
    public var isReplay: Bool {
        switch self {
        case .checkForUpdate(let event): event.replay ?? false
        case .updateReady(let event): event.replay ?? false
        case .updateFailed(let event): event.replay ?? false
        case .downloadProgress, .updateApplied, .daemonStopping: false
        }
    }

    /// The notification as a line: compact JSON and a newline.
    public var line: [UInt8] {
        func line(_ event: some RPCEvent) -> [UInt8] { encodeLine(RPCNotification(event)) }
        return line(params)
    }

    /// Every event type, for decoding by name.
    static let decoders: [String: @Sendable (KeyedDecodingContainer<NotificationKeys>) throws -> DaemonEvent] = {
        func entry<Event: RPCEvent>(_: Event.Type, _ wrap: @escaping @Sendable (Event) -> DaemonEvent)
            -> (String, @Sendable (KeyedDecodingContainer<NotificationKeys>) throws -> DaemonEvent) {
            (Event.name, { wrap(try $0.decode(Event.self, forKey: .params)) })
        }
        return Dictionary(uniqueKeysWithValues: [
            entry(CheckForUpdateEvent.self) { .checkForUpdate($0) },
            entry(DownloadProgressEvent.self) { .downloadProgress($0) },
            entry(UpdateReadyEvent.self) { .updateReady($0) },
            entry(UpdateFailedEvent.self) { .updateFailed($0) },
            entry(UpdateAppliedEvent.self) { .updateApplied($0) },
            entry(DaemonStoppingEvent.self) { .daemonStopping($0) },
        ])
    }()

    /// The name of every event of protocol v1.
    public static var names: [String] { decoders.keys.sorted() }
}

enum NotificationKeys: String, CodingKey { case jsonrpc, id, method, params, result, error }
