/// What one run of a fan-out load generator (`fanout` or `dbus-fanout`) reports.
struct FanOutRun: Sendable {
    /// The median round, from the send of the event to the last subscriber's receipt, in µs.
    var median: Double
    /// The median time from the send of the event to the first subscriber's receipt, in µs:
    /// the server's way from the trigger to its first send, when the generator runs beside
    /// the server; most of the round when the scheduler makes it wait for the sends.
    var firstMedian: Double
    /// The CPU time per round of the server (miniupdated, the C server or dbus-daemon), in
    /// µs; nil if the generator could not read it.
    var serverCPU: Double?
    /// The CPU time per round of the load generator itself, in µs.
    var generatorCPU: Double

    init(output: String) throws {
        median = try Scenarios.figure("median_us", in: output)
        firstMedian = try Scenarios.figure("first_median_us", in: output)
        serverCPU = try? Scenarios.figure("server_cpu_us", in: output)
        generatorCPU = try Scenarios.figure("generator_cpu_us", in: output)
    }

    /// Server and generator together: on a machine with few CPUs, a round cannot take less
    /// than this divided by their number.
    var totalCPU: Double? { serverCPU.map { $0 + generatorCPU } }
}

extension Row {
    /// A row of the CPU time per event, server + generator, ours against a baseline's.
    static func cpuPerEvent(_ scenario: String, _ ours: FanOutRun, baseline: (name: String, run: FanOutRun)) -> Row {
        func text(_ run: FanOutRun) -> String {
            "\(run.serverCPU.map { String(format: "%.1f", $0 / 1000) } ?? "?") + \(String(format: "%.1f", run.generatorCPU / 1000)) ms"
        }
        let ratio = ours.totalCPU.flatMap { ours in baseline.run.totalCPU.map { String(format: "%.2f×", ours / $0) } } ?? "—"
        return Row(scenario: scenario, ours: text(ours), baseline: "\(text(baseline.run)) (\(baseline.name))", ratio: ratio, target: "", met: false)
    }
}
