extension Method {
    /// `simulate {"app", "outcome"}`: sends the app's subscribers the events of a made-up
    /// update, touching neither the repository nor the disk, so developers can try their
    /// update UI. Result: `{}`, after the events.
    public struct Simulate: AppMethod {
        /// `{}`.
        public typealias Result = Empty
        /// The method's name on the wire.
        public static let name = "simulate"
        /// Administrators only.
        public static let access = MethodAccess.administrators
        /// `app` and `outcome`.
        public static let members = [appMember, (name: "outcome", accepts: Outcome.accepted)]

        /// The outcome to act out.
        public enum Outcome: String, Codable, Sendable, CaseIterable {
            /// `onCheckForUpdate` (an update), five `onDownloadProgress`, `onUpdateReady`;
            /// the next `applyUpdate` then succeeds once, simulated.
            case ready
            /// `onCheckForUpdate` (an update), then `onUpdateFailed` with `simulated`.
            case failed
            /// `onCheckForUpdate` without an update.
            case noUpdate = "no-update"

            /// `"ready", "failed" or "no-update"`.
            public static let accepted = listOfAlternatives(allCases.map { String(reflecting: $0.rawValue) })

            /// Decodes one of ``accepted``.
            /// - Throws: `DecodingError.dataCorrupted` whose description, `got "…"`, quotes
            ///   (the first 64 characters of) the value, for the `invalid params` message.
            public init(from decoder: any Decoder) throws {
                let text = try decoder.singleValueContainer().decode(String.self)
                guard let outcome = Self(rawValue: text) else {
                    throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "got \(String(reflecting: String(text.prefix(64))))"))
                }
                self = outcome
            }
        }

        /// The app id (`app`), such as `com.example.weather`; the app must be installed,
        /// or the call fails with `unknown-app`.
        public var app: String
        /// The event sequence to send (`outcome`): `ready`, `failed` or `no-update`.
        public var outcome: Outcome

        /// Creates the params.
        /// - Parameters:
        ///   - app: The id of an installed app.
        ///   - outcome: The event sequence to send the app's subscribers.
        public init(app: String, outcome: Outcome) {
            self.app = app
            self.outcome = outcome
        }
    }
}

/// `a`, `a or b`, `a, b or c`.
func listOfAlternatives(_ items: [String]) -> String {
    guard let last = items.last else { return "" }
    return items.count == 1 ? last : items.dropLast().joined(separator: ", ") + " or " + last
}
