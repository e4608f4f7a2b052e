#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Child processes for the bench: run to completion without blocking a thread, or start
/// in the background.
enum Shell {
    /// The path of `command` on `$PATH`, or nil.
    static func which(_ command: String) -> String? {
        if command.hasPrefix("/") { return command }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
        let directories: [String] = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"]
        return directories.map { "\($0)/\(command)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `command` to completion; returns its exit status, standard output and error.
    static func run(_ command: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> (Int32, String, String) {
        guard let executable = which(command) else { throw BenchError("\(command): not found") }
        let directory = try Workbench.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (outPath, errPath) = ("\(directory)/out", "\(directory)/err")
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardInput = FileHandle.nullDevice
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in continuation.resume() }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return (process.terminationStatus, out, err)
    }

    /// Pins every thread of process `pid` to `cpu`.
    static func pin(_ pid: Int32, cpu: Int) async throws {
        try await output("taskset", ["--all-tasks", "--cpu-list", "--pid", "\(cpu)", "\(pid)"])
    }

    /// Runs `command` and returns its output; a non-zero exit is an error.
    @discardableResult
    static func output(_ command: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> String {
        let (status, out, err) = try await run(command, arguments, environment: environment)
        guard status == 0 else { throw BenchError("\(command) \(arguments.joined(separator: " ")) exited \(status): \(err.suffix(500))") }
        return out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func check(_ command: String, _ arguments: [String], environment: [String: String] = [:]) async throws {
        try await output(command, arguments, environment: environment)
    }

    /// Starts `executable` in the background, its standard error to `log`.
    static func start(_ executable: String, _ arguments: [String], environment: [String: String] = [:], log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Starts one of the bench's C servers and waits until it listens on `socket` (they
    /// create it only then); fails if the server exits or takes longer than 10 s.
    static func startServer(_ executable: String, _ arguments: [String], socket: String, log: String) async throws -> Process {
        let process = try start(executable, arguments, log: log)
        let deadline = ContinuousClock.now + .seconds(10)
        while !FileManager.default.fileExists(atPath: socket) {
            guard process.isRunning, ContinuousClock.now < deadline else {
                process.terminate()
                throw BenchError("\(executable) did not listen on \(socket); see \(log)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return process
    }

    /// Runs blocking work on a thread of its own, off the task pool.
    static func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }
}

/// What `/proc` says about a process.
enum ProcessFacts {
    /// Resident and peak resident bytes.
    static func memory(_ pid: Int32) -> (resident: Int, peak: Int) {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Int {
            let line = text.split(separator: "\n").first { $0.hasPrefix(name + ":") } ?? ""
            return (Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0) * 1024
        }
        return (field("VmRSS"), field("VmHWM"))
    }

    /// User plus system CPU time, in milliseconds.
    static func cpuMilliseconds(_ pid: Int32) -> Double {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        // Fields after the command name, which is in parentheses and may hold spaces.
        let fields = text.split(separator: ")").last?.split(separator: " ") ?? []
        let ticks = (Double(fields.count > 12 ? fields[11] : "0") ?? 0) + (Double(fields.count > 12 ? fields[12] : "0") ?? 0)
        return ticks * 1000 / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Context switches of each of its threads, by thread id: each is a wakeup.
    static func contextSwitches(_ pid: Int32) -> [Int: Int] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        var switches: [Int: Int] = [:]
        for task in tasks {
            let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/status", encoding: .utf8)) ?? ""
            switches[Int(task) ?? 0] = text.split(separator: "\n").filter { $0.contains("ctxt_switches") }
                .compactMap { Int($0.split(separator: "\t").last?.trimmingCharacters(in: .whitespaces) ?? "") }.reduce(0, +)
        }
        return switches
    }
}
