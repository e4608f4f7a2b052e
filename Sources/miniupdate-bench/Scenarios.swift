import Foundation
import Logging
import MiniupdateClient
import MiniupdateEngine
import MiniupdateRepository
import MiniupdateProtocol

/// The scenarios of `docs/performance.md`. Each measures our side and its baseline in the
/// same run and returns its rows.
enum Scenarios {
    static func microseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
    }

    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    static func time(_ body: () async throws -> Void) async rethrows -> Double {
        let start = ContinuousClock.now
        try await body()
        return microseconds(ContinuousClock.now - start)
    }

    /// Parses "key value key value …" lines that the C helpers print.
    static func figure(_ key: String, in output: String) throws -> Double {
        let words = output.split(whereSeparator: \.isWhitespace)
        guard let index = words.lastIndex(where: { $0 == key }), index + 1 < words.count, let value = Double(words[index + 1]) else {
            throw BenchError("no \(key) in: \(output.suffix(300))")
        }
        return value
    }

    /// 10000 → "10,000".
    static func grouped(_ value: Int) -> String {
        let digits = Array(String(value))
        return String(digits.enumerated().flatMap { index, digit in
            index > 0 && (digits.count - index) % 3 == 0 ? [",", digit] : [digit]
        })
    }

    static let statusRequest = #"{"jsonrpc":"2.0","id":1,"method":"status"}"#
    static let benchApp = "com.example.bench"

    /// A daemon serving one installed app, for the protocol scenarios.
    static func oneAppDaemon(_ bench: Workbench) async throws -> BenchDaemon {
        let repository = try BenchRepository(bench: bench, name: "one")
        try repository.addApp(benchApp, version: "1.0.0", payloadBytes: 1024)
        try repository.sign()
        let state = bench.path("daemon-one/state")
        if !FileManager.default.fileExists(atPath: state) { try preinstall([benchApp], stateDirectory: state) }
        return try await BenchDaemon.start(bench, name: "one", repository: repository)
    }

    // MARK: Start-up, idle and check, with 10,000 installed apps

    static func manyApps(_ bench: Workbench) async throws -> [Row] {
        let count = 10_000
        let repository = try BenchRepository(bench: bench, name: "many")
        try repository.addTinyApps(count)
        try repository.sign()
        try preinstall(BenchRepository.tinyAppIDs(count), stateDirectory: bench.path("daemon-many/state"))
        // The first start writes every app's state file; the ones after are the steady state:
        // a restart after a clean stop, which leaves the start-up snapshot.
        var startUps: [Double] = []
        for run in 0...(bench.quick ? 3 : 7) {
            let daemon = try await BenchDaemon.start(bench, name: "many", repository: repository)
            if run > 0 { startUps.append(microseconds(daemon.startUp)) }
            _ = try await daemon.call(Method.CheckForUpdate())
            await daemon.stop()
        }
        var rows = [Row.time("start-up, 10,000 apps (exec → READY=1)", median(startUps), target: 150_000)]
        // After a crash there is no snapshot: every app directory is read and repaired.
        var afterCrash: [Double] = []
        for _ in 0..<(bench.quick ? 1 : 3) {
            let crashed = try await BenchDaemon.start(bench, name: "many", repository: repository)
            await crashed.kill()
            let daemon = try await BenchDaemon.start(bench, name: "many", repository: repository)
            afterCrash.append(microseconds(daemon.startUp))
            await daemon.stop()
        }
        rows.append(.time("start-up after a crash (no snapshot), 10,000 apps", median(afterCrash), target: nil, targetText: ""))

        // The check itself, in the engine (the library the daemon runs): fetch, verify, compare.
        let engineState = bench.path("engine-many")
        try preinstall(BenchRepository.tinyAppIDs(count), stateDirectory: "\(engineState)/state")
        let engine = try await UpdateEngine(configuration: EngineConfiguration(
            stateDirectory: "\(engineState)/state", cacheDirectory: "\(engineState)/cache",
            repository: repository.url, trustedKeys: [repository.key.publicKey]
        ), logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }))
        let events = engine.events()
        let (full, unchanged) = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await engine.run() }
            group.addTask { for await _ in events {} }
            defer { group.cancelAll() }
            // Warm up: the first start repairs 10,000 app directories and prunes in the background.
            for _ in 0..<2 {
                try repository.sign()
                _ = try await engine.checkAll()
            }
            var full: [Double] = [], unchanged: [Double] = []
            for _ in 0..<(bench.quick ? 3 : 7) {
                try repository.sign()
                full.append(try await time { _ = try await engine.checkAll() })
                unchanged.append(try await time { _ = try await engine.checkAll() })
            }
            return (full, unchanged)
        }
        print("   check samples (µs): \(full.map { Int($0) }), 304: \(unchanged.map { Int($0) })")
        rows.append(.time("check, 10,000 apps (fetch, verify, compare)", median(full), target: 500_000))
        rows.append(.time("check, unchanged repository (304)", median(unchanged), target: 20_000))

        // The same through the socket: the response lists all 10,000 apps.
        let daemon = try await BenchDaemon.start(bench, name: "many", repository: repository)
        defer { daemon.process.terminate() }
        _ = try await daemon.call(Method.CheckForUpdate())
        var overSocket: [Double] = []
        for _ in 0..<(bench.quick ? 3 : 7) {
            try repository.sign()
            overSocket.append(try await time { _ = try await daemon.call(Method.CheckForUpdate()) })
        }
        rows.append(.time("check over the socket, 10,000 results decoded", median(overSocket), target: nil, targetText: ""))

        let idle = try IdleConnections(to: daemon.socket, count: 1000)
        defer { idle.close() }
        try await Task.sleep(for: .seconds(2))
        let seconds = bench.quick ? 10 : 60
        let (cpu0, switches0) = (ProcessFacts.cpuMilliseconds(daemon.pid), ProcessFacts.contextSwitches(daemon.pid))
        try await Task.sleep(for: .seconds(seconds))
        let (cpu1, switches1) = (ProcessFacts.cpuMilliseconds(daemon.pid), ProcessFacts.contextSwitches(daemon.pid))
        // Threads present at both samples; one born in between counts from zero.
        let wakeups = switches1.reduce(0) { $0 + $1.value - (switches0[$1.key] ?? 0) }
        let resident = Double(ProcessFacts.memory(daemon.pid).resident) / 1_048_576
        rows.append(Row(scenario: "idle RSS, 10,000 apps, 1,000 clients", ours: String(format: "%.1f MiB", resident), baseline: "—", ratio: "—",
                        target: "< 40 MiB", met: resident < 40))
        rows.append(Row(scenario: "idle over \(seconds) s (no watchdog): CPU, wakeups", ours: String(format: "%.0f ms, %d", cpu1 - cpu0, wakeups),
                        baseline: "—", ratio: "—", target: "0 wakeups", met: wakeups == 0))
        return rows
    }

    // MARK: Round trip

    static func roundTrip(_ bench: Workbench) async throws -> [Row] {
        let daemon = try await oneAppDaemon(bench)
        defer { daemon.process.terminate() }
        let count = bench.quick ? 5_000 : 50_000
        let responseBytes = try await Shell.blocking { try rawResponseLength(daemon.socket, statusRequest) }
        let echoSocket = bench.path("echo.sock")
        let echo = try await Shell.startServer("\(bench.clients)/roundtrip", ["echo", echoSocket], socket: echoSocket, log: bench.path("echo.log"))
        defer { echo.terminate() }
        let padded = String(repeating: "x", count: max(responseBytes - 1, 1))
        let bus = try await PrivateBus.start(in: bench.path("bus-call"))
        defer { bus.stop() }

        // On 2 vCPUs, whether client and server share a CPU decides the figure: waking a
        // thread on the other CPU costs tens of microseconds here, whoever the server is.
        // So every side is measured twice, pinned the same way: on one CPU, then on two.
        for server in [daemon.pid, echo.processIdentifier, bus.process.processIdentifier] { try await Shell.pin(server, cpu: 0) }
        func client(_ cpu: Int, _ program: String, _ arguments: [String]) async throws -> String {
            try await Shell.output("taskset", ["--cpu-list", "\(cpu)", "\(bench.clients)/\(program)"] + arguments)
        }
        var rows: [Row] = []
        for (cpu, placement) in [(0, "client and server on one CPU"), (1, "on two CPUs")] {
            let ours = try await client(cpu, "roundtrip", ["client", daemon.socket, "\(count)", "1000", statusRequest])
            let physical = try await client(cpu, "roundtrip", ["client", echoSocket, "\(count)", "1000", padded])
            let dbus = try await client(cpu, "dbus-call", [bus.address, "\(min(count, 20_000))", "\(responseBytes)"])
            let (p50, p99) = (try figure("p50_us", in: ours), try figure("p99_us", in: ours))
            let target = cpu == 0
            rows += [
                .time("round trip p50, \(responseBytes)-byte status, 1,000 idle clients, \(placement)", p50, baseline: ("C echo", try figure("p50_us", in: physical)), target: target ? 25 : nil, targetText: target ? nil : ""),
                .time("round trip p99, same", p99, baseline: ("C echo", try figure("p99_us", in: physical)), target: target ? 250 : nil, targetText: target ? nil : ""),
                .time("round trip p50 against a D-Bus method call", p50, baseline: ("D-Bus", try figure("p50_us", in: dbus)), target: nil, targetText: ""),
                .time("round trip p99 against a D-Bus method call", p99, baseline: ("D-Bus", try figure("p99_us", in: dbus)), target: nil, targetText: ""),
            ]
        }
        rows += try await everyMethod(bench, daemon: daemon, echoSocket: echoSocket, bus: bus, count: count)
        return rows
    }

    /// Each method an app or an admin calls, one after another on one connection (client
    /// and server on one CPU, the targets' placement), against the C echo server and a
    /// D-Bus method call answering as many bytes. A response is the next line with an
    /// `"id"`: events a call brings (a subscribe's replay) are read and passed over.
    static func everyMethod(_ bench: Workbench, daemon: BenchDaemon, echoSocket: String, bus: PrivateBus, count: Int) async throws -> [Row] {
        let app = #"{"app":"\#(benchApp)"}"#
        let methods: [(name: String, request: String, count: Int)] = [
            ("status", statusRequest, count),
            ("subscribe", #"{"jsonrpc":"2.0","id":1,"method":"subscribe","params":\#(app)}"#, count),
            ("unsubscribe", #"{"jsonrpc":"2.0","id":1,"method":"unsubscribe","params":\#(app)}"#, count),
            // Each asks the repository (nginx, a 304): bound by HTTP, not by the socket.
            ("checkForUpdate, up to date", #"{"jsonrpc":"2.0","id":1,"method":"checkForUpdate","params":\#(app)}"#, min(count, 1_000)),
            ("applyUpdate, refused (no-update-ready)", #"{"jsonrpc":"2.0","id":1,"method":"applyUpdate","params":\#(app)}"#, count),
            ("an unknown method", #"{"jsonrpc":"2.0","id":1,"method":"reticulateSplines"}"#, count),
        ]
        func client(_ program: String, _ arguments: [String]) async throws -> String {
            try await Shell.output("taskset", ["--cpu-list", "0", "\(bench.clients)/\(program)"] + arguments)
        }
        var rows: [Row] = []
        for method in methods {
            let bytes = try await Shell.blocking { try rawResponseLength(daemon.socket, method.request) }
            let ours = try await client("roundtrip", ["client", daemon.socket, "\(method.count)", "1000", method.request, #""id":"#])
            let echo = try await client("roundtrip", ["client", echoSocket, "\(method.count)", "1000", String(repeating: "x", count: max(bytes - 1, 1))])
            let dbus = try await client("dbus-call", [bus.address, "\(min(method.count, 20_000))", "\(bytes)"])
            let label = "\(method.name) (\(bytes)-byte response), one CPU"
            rows += [
                .time("method round trip p50, \(label)", try figure("p50_us", in: ours), baseline: ("C echo", try figure("p50_us", in: echo)), ratioTarget: 2.5),
                .time("method round trip p99, same", try figure("p99_us", in: ours), baseline: ("C echo", try figure("p99_us", in: echo)), ratioTarget: 3),
                .time("method round trip p50 against a D-Bus method call", try figure("p50_us", in: ours), baseline: ("D-Bus", try figure("p50_us", in: dbus)), target: nil, targetText: ""),
            ]
        }
        return rows
    }

    /// The length of the response line to `request`, newline included.
    static func rawResponseLength(_ path: String, _ request: String) throws -> Int {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(fd) }
        guard withUnixAddress(path, { connect(fd, $0, $1) }) == 0 else { throw BenchError("connect \(path)") }
        let line = Array((request + "\n").utf8)
        _ = line.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !received.contains(0x0a) {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { throw BenchError("no response from \(path)") }
            received += buffer[..<count]
        }
        return (received.firstIndex(of: 0x0a) ?? 0) + 1
    }

    // MARK: Event fan-out

    static func fanOut(_ bench: Workbench) async throws -> [Row] {
        let daemon = try await oneAppDaemon(bench)
        defer { daemon.process.terminate() }
        let bus = try await PrivateBus.start(in: bench.path("bus-fanout"))
        defer { bus.stop() }
        // A baseline that does nothing per subscriber but one send(2), on one thread.
        let physicalSocket = bench.path("fanout-server.sock")
        let physical = try await Shell.startServer("\(bench.clients)/fanout-server", [physicalSocket], socket: physicalSocket, log: bench.path("fanout-server.log"))
        defer { physical.terminate() }
        let rounds = bench.quick ? 10 : 30
        /// Each side's median of `rounds` rounds to `clients` subscribers, with a pause of
        /// `pause` µs after each round, and the CPU time each round cost.
        func measure(clients: Int, pause: Int) async throws -> (ours: FanOutRun, dbus: FanOutRun, limit: FanOutRun) {
            func run(_ program: String, _ arguments: [String]) async throws -> FanOutRun {
                try FanOutRun(output: try await Shell.output("\(bench.clients)/\(program)", arguments + ["\(clients)", "\(rounds)", "\(pause)"]))
            }
            return (try await run("fanout", [daemon.socket, benchApp]), try await run("dbus-fanout", [bus.address]),
                    try await run("fanout", [physicalSocket, benchApp]))
        }
        var rows: [Row] = []
        // A 20 ms pause after each round, as events come: sporadic, so each finds the caches cold.
        for (clients, target) in bench.quick ? [(1000, 3000.0)] : [(1000, 3000.0), (10_000, 40_000.0)] {
            let (ours, dbus, limit) = try await measure(clients: clients, pause: 20_000)
            var row = Row.time("event fan-out to \(grouped(clients)) clients (median of \(rounds))", ours.median, baseline: ("D-Bus signal", dbus.median), target: target,
                               targetText: "≤ \(Row.formatMicroseconds(target)), ≥ 3× faster than D-Bus")
            func meetsTarget(_ run: FanOutRun) -> Bool { run.median <= target && run.median * 3 <= dbus.median }
            row.met = meetsTarget(ours)
            // The C server does nothing but send: what it cannot reach, this machine does not give.
            if !row.met, !meetsTarget(limit) { row.alsoMissedBy = "C server" }
            rows.append(row)
            rows.append(.time("event fan-out to \(grouped(clients)) against a C server", ours.median, baseline: ("C, one send each", limit.median), target: nil, targetText: ""))
            rows.append(.time("event fan-out to \(grouped(clients)), first subscriber's receipt", ours.firstMedian, baseline: ("D-Bus signal", dbus.firstMedian), target: nil, targetText: ""))
            // What bounds the figures on a small machine: the server and the generator share its CPUs.
            rows.append(.cpuPerEvent("CPU per event to \(grouped(clients)), server + load generator", ours, baseline: ("C", limit)))
            rows.append(.cpuPerEvent("CPU per event to \(grouped(clients)), against D-Bus", ours, baseline: ("D-Bus", dbus)))
        }
        // For reference, a 1 ms pause: every side then runs with warm caches.
        if !bench.quick {
            let (ours, dbus, limit) = try await measure(clients: 1000, pause: 1000)
            rows.append(.time("event fan-out to 1,000, 1 ms pauses (warm caches)", ours.median, baseline: ("D-Bus signal", dbus.median), target: nil, targetText: ""))
            rows.append(.time("event fan-out to 1,000, 1 ms pauses, against a C server", ours.median, baseline: ("C, one send each", limit.median), target: nil, targetText: ""))
        }
        return rows
    }

    // MARK: Download and apply

    static func downloadAndApply(_ bench: Workbench) async throws -> [Row] {
        let sizes = bench.quick ? [1 << 20, 64 << 20] : [1 << 20, 64 << 20, 1 << 30]
        func app(_ size: Int) -> String { "com.example.size\(size >> 20)m" }
        let repository = try BenchRepository(bench: bench, name: "dl")
        for size in sizes { try repository.addApp(app(size), version: "1.0.0", payloadBytes: 1024) }
        try repository.sign()
        try preinstall(sizes.map(app), stateDirectory: bench.path("daemon-dl/state"))
        let daemon = try await BenchDaemon.start(bench, name: "dl", repository: repository)
        defer { daemon.process.terminate() }
        _ = try await daemon.call(Method.CheckForUpdate())
        var rows: [Row] = []
        for size in sizes {
            let id = app(size)
            let release = try repository.addApp(id, version: "1.0.1", payloadBytes: size)
            try repository.sign()
            let label = size >= 1 << 30 ? "\(size >> 30) GiB" : "\(size >> 20) MiB"
            var baseline: Double?
            if size >= 64 << 20 {
                // Baseline: curl to a file, then openssl's SHA-256 of it. Each side starts with
                // no dirty pages: otherwise it pays for the writeback of the package just
                // published, or of the other side's file.
                sync()
                let file = bench.path("curl.bin")
                baseline = try await time {
                    try await Shell.check("curl", ["-s", "-f", "-o", file, "\(repository.url)/\(release.package)"])
                    try await Shell.check("openssl", ["dgst", "-sha256", file])
                }
                try? FileManager.default.removeItem(atPath: file)
            }
            sync()
            let residentBefore = ProcessFacts.memory(daemon.pid).resident
            let downloaded = try await DaemonClient.withConnection(socketPath: daemon.socket) { client -> Double in
                _ = try await client.call(Method.Subscribe(app: id))
                let start = ContinuousClock.now
                let check = try await client.call(Method.CheckForUpdate(app: id))
                guard check.hasUpdate == true else { throw BenchError("\(id): no update found") }
                var done: Double?
                events: for await notification in client.notifications {
                    switch notification.event {
                    case .downloadProgress(let progress) where done == nil && progress.bytes == progress.total:
                        done = microseconds(ContinuousClock.now - start)
                    case .updateReady:
                        break events
                    case .updateFailed:
                        throw BenchError("\(id): update failed: \(String(decoding: notification.line, as: UTF8.self))")
                    default:
                        continue
                    }
                }
                guard let done else { throw BenchError("\(id): no final progress event") }
                return done
            }
            let growth = Double(ProcessFacts.memory(daemon.pid).peak - residentBefore) / 1_048_576
            if let baseline {
                var row = Row.time("download + verify, \(label) from nginx", downloaded, baseline: ("curl + openssl dgst", baseline), target: nil,
                                   targetText: "≤ 1.1× baseline")
                row.met = downloaded <= baseline * 1.1
                rows.append(row)
                rows.append(Row(scenario: "peak RSS growth, \(label) download", ours: String(format: "%.1f MiB", growth), baseline: "—", ratio: "—",
                                target: "< 32 MiB", met: growth < 32))
            }
            let applied = try await time { _ = try await daemon.call(Method.ApplyUpdate(app: id)) }
            if size != 64 << 20 { rows.append(.time("apply, \(label) app", applied, target: 5_000)) }
        }
        return rows
    }
}
