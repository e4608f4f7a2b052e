import ArgumentParser
import Foundation

/// `.build/release/miniupdate-bench [--quick]` (built as the README says): runs every scenario of
/// `docs/performance.md` with its baseline in the same run, and prints one table.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "miniupdate-bench",
        abstract: "Measures miniupdated against its targets and against baselines, side by side.",
        discussion: """
            Installs what it needs (nginx, curl, openssl, a C compiler, libdbus) when missing, \
            starts its own nginx, dbus-daemon and miniupdated in a temporary directory, and \
            removes them afterwards. Run it from a release build; tests never assert timings, \
            this prints them.
            """
    )

    @Flag(help: "Smaller sizes and counts: under 2 minutes.")
    var quick = false

    @Option(name: .customLong("only"), help: "Run only these scenarios (download, check, fanout, roundtrip, startup, idle, apply).")
    var only: [String] = []

    @Option(help: "Where to work (default: a new temporary directory, removed afterwards).")
    var workDirectory: String?

    @Option(help: "Seconds a started daemon may take to report READY=1 (Benchmarks/symbol-order.sh runs it under callgrind).")
    var readyTimeout = 30

    func run() async throws {
        let started = ContinuousClock.now
        let bench = try await Workbench.make(quick: quick, directory: workDirectory, readyTimeout: .seconds(readyTimeout))
        defer { bench.tearDown(keep: workDirectory != nil) }
        print("miniupdate-bench \(quick ? "--quick " : "")on \(Workbench.machineDescription())")
        print(Workbench.runtimeLinkage())
        let scenarios: [([String], (Workbench) async throws -> [Row])] = [
            (["startup", "check", "idle"], Scenarios.manyApps),
            (["roundtrip"], Scenarios.roundTrip),
            (["fanout"], Scenarios.fanOut),
            (["download", "apply"], Scenarios.downloadAndApply),
        ]
        var rows: [Row] = []
        for (names, scenario) in scenarios where only.isEmpty || !Set(only).isDisjoint(with: names) {
            let name = names.joined(separator: ", ")
            print("… \(name)")
            do {
                let scenarioStart = ContinuousClock.now
                let produced = try await scenario(bench)
                for row in produced { print("   \(row.scenario): \(row.ours)\(row.baseline == "—" ? "" : " vs \(row.baseline)")") }
                print("   (\(Int((ContinuousClock.now - scenarioStart).components.seconds)) s)")
                fflush(nil)
                rows += produced
            } catch {
                rows.append(Row(scenario: name, ours: "error: \(error)", baseline: "", ratio: "", target: "", met: false))
            }
        }
        print()
        print(Row.table(rows))
        let targeted = rows.filter { !$0.target.isEmpty }
        let shared = targeted.filter { $0.alsoMissedBy != nil }.count
        print("\n\(targeted.filter(\.met).count) of \(targeted.count) targets met\(shared > 0 ? " (\(shared) missed by a baseline too)" : ""); \(Int((ContinuousClock.now - started).components.seconds)) s")
    }
}
