import FoundationEssentials

/// The wall-clock time, in whole seconds since the Unix epoch, as the engine reads it.
///
/// Durations the engine waits for use Swift's clocks; this one is for times it compares
/// with times from elsewhere (an index's expiry) or keeps (the time of a check).
public struct WallClock: Sendable {
    private let read: @Sendable () -> Int64

    /// A clock that reads `read`.
    public init(_ read: @escaping @Sendable () -> Int64) { self.read = read }

    /// The system's clock.
    public static let system = WallClock { Int64(Date().timeIntervalSince1970) }

    /// A clock stopped at `seconds`, for tests.
    public static func fixed(at seconds: Int64) -> WallClock { WallClock { seconds } }

    /// The time now.
    public func now() -> Int64 { read() }
}
