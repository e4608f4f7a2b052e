import MiniupdateCore
import MiniupdateRepository

/// The outcome a ``UpdateEngine/simulate(_:_:)`` acts out.
public enum SimulatedOutcome: String, Sendable, CaseIterable {
    /// A check finds an update, its download progresses and it is ready; the next
    /// ``UpdateEngine/applyUpdate(_:)`` applies it, simulated.
    case ready
    /// A check finds an update and its download fails.
    case failed
    /// A check finds nothing.
    case noUpdate = "no-update"
}

extension UpdateEngine {
    /// Announces the events of a made-up update of `app`, marked ``EngineEvent/simulated``,
    /// touching neither the repository nor the disk, so developers can try their update
    /// UI. The version on offer is the installed one's next patch, `-simulated`.
    /// Refuses an app that is not installed, as ``applyUpdate(_:)`` does, with
    /// `unknown-app`.
    public func simulate(_ app: AppID, _ outcome: SimulatedOutcome) throws {
        let record = try requireApp(app)
        let version = Self.madeUpVersion(after: record.installed)
        batchingEvents {
            switch outcome {
            case .noUpdate:
                emit(app, .checked(hasUpdate: false, version: nil), simulated: true)
            case .ready:
                emit(app, .checked(hasUpdate: true, version: version), simulated: true)
                for step in Int64(0)...4 {
                    emit(app, .progress(version: version, bytes: step * 250_000, total: 1_000_000), simulated: true)
                }
                apps[app]?.simulatedReady = version
                emit(app, .ready(version: version), simulated: true)
            case .failed:
                emit(app, .checked(hasUpdate: true, version: version), simulated: true)
                emit(app, .failed(version: version, error: UpdateError(.simulated, "simulated failure")), simulated: true)
            }
        }
    }

    /// The apply of a simulated update: only its event.
    func applySimulated(_ app: AppID, _ version: Version, over installed: Version?) -> ApplyResult {
        apps[app]?.simulatedReady = nil
        emit(app, .applied(version: version, previous: installed), simulated: true)
        return ApplyResult(app: app, version: version, previousVersion: installed, simulated: true)
    }

    static func madeUpVersion(after installed: Version?) -> Version {
        let fallback = try! Version("1.0.0-simulated")  // a valid literal
        guard let installed, installed.patch < UInt64.max else { return fallback }
        // Longer than a version may be when the installed one is near the limit.
        return (try? Version("\(installed.major).\(installed.minor).\(installed.patch + 1)-simulated")) ?? fallback
    }
}
