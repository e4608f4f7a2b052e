#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The bench's working directory, its tools and its helper servers.
final class Workbench: Sendable {
    let quick: Bool
    let directory: String
    /// Where `miniupdated` is: the directory of this executable.
    let binaries: String
    /// The C load generators and baselines, compiled at start.
    let clients: String
    let nginx: Nginx
    /// How long a started daemon may take to report READY=1 (longer under callgrind).
    let readyTimeout: Duration

    private init(quick: Bool, directory: String, binaries: String, clients: String, nginx: Nginx, readyTimeout: Duration) {
        self.quick = quick
        self.readyTimeout = readyTimeout
        self.directory = directory
        self.binaries = binaries
        self.clients = clients
        self.nginx = nginx
    }

    static func make(quick: Bool, directory: String?, readyTimeout: Duration = .seconds(30)) async throws -> Workbench {
        raiseOpenFileLimit()
        let directory = try directory ?? makeTemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // nginx's workers run as another user when the bench runs as root: let them read.
        chmod(directory, 0o755)
        try await installMissingTools()
        let binaries = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
        guard FileManager.default.isExecutableFile(atPath: "\(binaries)/miniupdated") else {
            throw BenchError("no miniupdated beside this executable; run `swift build -c release --static-swift-stdlib --product miniupdate-bench` first")
        }
        let clients = "\(directory)/clients"
        try await compileClients(into: clients)
        let nginx = try await Nginx.start(in: "\(directory)/nginx", root: "\(directory)/www")
        return Workbench(quick: quick, directory: directory, binaries: binaries, clients: clients, nginx: nginx, readyTimeout: readyTimeout)
    }

    func tearDown(keep: Bool) {
        nginx.stop()
        if !keep { try? FileManager.default.removeItem(atPath: directory) }
    }

    func path(_ name: String) -> String { "\(directory)/\(name)" }

    static func makeTemporaryDirectory() throws -> String {
        var template = Array("\(NSTemporaryDirectory())/miniupdate-bench.XXXXXX".utf8CString)
        guard let result = mkdtemp(&template) else { throw BenchError("mkdtemp failed") }
        return String(cString: result)
    }

    static func machineDescription() -> String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last?
            .trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        var system = utsname()
        uname(&system)
        let release = withUnsafeBytes(of: &system.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let date = ISO8601DateFormatter().string(from: Date())
        return "\(ProcessInfo.processInfo.activeProcessorCount) × \(model), Linux \(release), \(date)"
    }

    /// How the binaries under test hold the Swift runtime: the .deb links it statically,
    /// which starts faster and maps less than the shared libraries a plain build uses. The
    /// bench and `miniupdated` are built with the same flags, so the bench's own maps tell.
    static func runtimeLinkage() -> String {
        let maps = (try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8)) ?? ""
        return maps.contains("libswiftCore.so")
            ? "miniupdated: Swift runtime in shared libraries; the .deb links it statically (`swift build -c release --static-swift-stdlib` to measure that)"
            : "miniupdated: Swift runtime linked statically, as in the .deb"
    }

    /// The load generators and baselines are C, built here with the system's compiler.
    static func compileClients(into directory: String) async throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Benchmarks/clients").standardized.path
        let dbus = try await Shell.output("pkg-config", ["--cflags", "--libs", "dbus-1"]).split(separator: " ").map(String.init)
        for (name, extra) in [("fanout", [String]()), ("fanout-server", []), ("roundtrip", []), ("dbus-fanout", dbus), ("dbus-call", ["-pthread"] + dbus)] {
            try await Shell.check("cc", ["-O2", "-o", "\(directory)/\(name)", "\(sources)/\(name).c"] + extra)
        }
    }

    /// nginx, curl, openssl, a C compiler and libdbus, from Debian's packages when missing.
    static func installMissingTools() async throws {
        var missing: [String] = []
        for (command, package) in [("nginx", "nginx-light"), ("curl", "curl"), ("openssl", "openssl"), ("cc", "gcc"),
                                   ("pkg-config", "pkg-config"), ("dbus-daemon", "dbus")] where Shell.which(command) == nil {
            missing.append(package)
        }
        if !FileManager.default.fileExists(atPath: "/usr/include/dbus-1.0/dbus/dbus.h") { missing.append("libdbus-1-dev") }
        guard !missing.isEmpty else { return }
        guard getuid() == 0 else { throw BenchError("missing tools; run: sudo apt-get install -y \(missing.joined(separator: " "))") }
        print("installing \(missing.joined(separator: " "))")
        try await Shell.check("apt-get", ["install", "-y", "--no-install-recommends"] + missing, environment: ["DEBIAN_FRONTEND": "noninteractive"])
    }

    /// Thousands of sockets: lift the soft descriptor limit to the hard one (children inherit it).
    static func raiseOpenFileLimit() {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        limit.rlim_cur = limit.rlim_max
        setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// nginx on 127.0.0.1 serving `root`, run in the foreground as the bench's child.
struct Nginx: Sendable {
    let process: Process
    let port: Int
    var baseURL: String { "http://127.0.0.1:\(port)" }

    static func start(in directory: String, root: String) async throws -> Nginx {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let port = try freePort()
        let configuration = """
            daemon off;
            worker_processes 1;
            pid \(directory)/nginx.pid;
            error_log \(directory)/error.log;
            events { worker_connections 1024; }
            http {
                access_log off;
                sendfile on;
                tcp_nopush on;
                client_body_temp_path \(directory)/body;
                proxy_temp_path \(directory)/proxy;
                fastcgi_temp_path \(directory)/fastcgi;
                uwsgi_temp_path \(directory)/uwsgi;
                scgi_temp_path \(directory)/scgi;
                types { application/octet-stream zst; }
                server { listen 127.0.0.1:\(port); root \(root); }
            }
            """
        try configuration.write(toFile: "\(directory)/nginx.conf", atomically: true, encoding: .utf8)
        let process = try Shell.start(Shell.which("nginx") ?? "/usr/sbin/nginx", ["-c", "\(directory)/nginx.conf", "-p", directory, "-e", "\(directory)/error.log"],
                                      log: "\(directory)/stderr.log")
        for _ in 0..<200 {
            if (try? await Shell.output("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/"])) != nil { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        return Nginx(process: process, port: port)
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }

    /// A port nothing listens on now: bind port 0 and read what the kernel chose.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw BenchError("cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A private dbus-daemon with limits raised for 10,000 connections: the transport of the
/// Flatpak, fwupd and RAUC daemons, as the baseline.
struct PrivateBus: Sendable {
    let process: Process
    let address: String

    static func start(in directory: String) async throws -> PrivateBus {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let configuration = """
            <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
             "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
            <busconfig>
              <type>miniupdate-bench</type>
              <listen>unix:path=\(directory)/bus</listen>
              <auth>EXTERNAL</auth>
              <policy context="default">
                <allow user="*"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/>
              </policy>
              <limit name="max_completed_connections">20000</limit>
              <limit name="max_incomplete_connections">20000</limit>
              <limit name="max_connections_per_user">20000</limit>
            </busconfig>
            """
        try configuration.write(toFile: "\(directory)/bus.conf", atomically: true, encoding: .utf8)
        let addressFile = "\(directory)/address"
        _ = FileManager.default.createFile(atPath: addressFile, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Shell.which("dbus-daemon") ?? "/usr/bin/dbus-daemon")
        process.arguments = ["--config-file=\(directory)/bus.conf", "--nofork", "--print-address=1"]
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: addressFile))
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<200 {
            if let text = try? String(contentsOfFile: addressFile, encoding: .utf8), let line = text.split(separator: "\n").first {
                return PrivateBus(process: process, address: String(line))
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        process.terminate()
        throw BenchError("dbus-daemon did not print its address")
    }

    /// dbus-daemon does not exit on SIGTERM; it holds nothing worth a clean stop.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
