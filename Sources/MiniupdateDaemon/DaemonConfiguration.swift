#if canImport(Glibc)
import Glibc
#endif
import Logging
import MiniupdateCore
import MiniupdateEngine
import MiniupdateProtocol
import MiniupdateRepository
import MiniupdateServer

/// Settings given on the command line; each one, when present, overrides the file.
public struct DaemonFlags: Sendable {
    /// The configuration file to read (`--config`); a missing file means every default.
    public var configPath: String
    /// The state directory (`--state-dir`), overriding `state-directory`; nil: the file's.
    public var stateDirectory: String?
    /// The cache directory (`--cache-dir`), overriding `cache-directory`; nil: the file's.
    public var cacheDirectory: String?
    /// The socket path (`--socket`), overriding both `MINIUPDATE_SOCKET` and `socket`;
    /// nil: the environment's or the file's.
    public var socket: String?
    /// The repository URL (`--repository`), overriding `repository`; nil: the file's.
    public var repository: String?
    /// Trusted public key files (`--trusted-key`, repeatable). When not empty they replace
    /// every `trusted-key` of the file rather than adding to them; empty: the file's.
    public var trustedKeys: [String]
    /// The log level (`--log-level`), overriding `log-level`; nil: the file's.
    public var logLevel: Logger.Level?

    /// Flags as given on the command line; every default means "not given", so the file
    /// (or its defaults) decides.
    public init(configPath: String = DaemonConfiguration.defaultConfigPath, stateDirectory: String? = nil, cacheDirectory: String? = nil,
                socket: String? = nil, repository: String? = nil, trustedKeys: [String] = [], logLevel: Logger.Level? = nil) {
        self.configPath = configPath
        self.stateDirectory = stateDirectory
        self.cacheDirectory = cacheDirectory
        self.socket = socket
        self.repository = repository
        self.trustedKeys = trustedKeys
        self.logLevel = logLevel
    }
}

/// Everything the daemon runs with: the file's settings, overridden by flags and by
/// `MINIUPDATE_SOCKET`. See `docs/configuration.md`.
public struct DaemonConfiguration: Sendable {
    /// The configuration file read when `--config` is not given.
    public static let defaultConfigPath = "/etc/miniupdate/miniupdate.conf"
    /// The state directory (installed apps and durable state) when neither `--state-dir`
    /// nor `state-directory` sets one.
    public static let defaultStateDirectory = "/var/lib/miniupdate"
    /// The cache directory (downloads, including partial ones) when neither `--cache-dir`
    /// nor `cache-directory` sets one.
    public static let defaultCacheDirectory = "/var/cache/miniupdate"

    /// What the engine runs with: the state and cache directories, the repository, the
    /// trusted keys (already read from ``trustedKeyPaths``) and the limits
    /// (`max-concurrent-downloads`, `max-index-size`, `max-package-size`,
    /// `max-unpacked-size`, `max-files` and the transfer timeouts). A reload applies it
    /// whole, but is rejected if either directory changed.
    public var engine: EngineConfiguration
    /// What the socket server runs with: `max-clients`, `max-client-queue`,
    /// `max-subscriptions`, `max-batch`, `check-interval`, `check-retry-interval` and the
    /// ``accessPolicy``. A reload applies only the access policy; the rest are read at
    /// start-up.
    public var server: ServerOptions
    /// The socket to bind when not socket-activated: `--socket`, else `MINIUPDATE_SOCKET`
    /// when set and not empty, else `socket`, else `/run/miniupdate/miniupdate.sock`. Read
    /// at start-up only.
    public var socketPath: String
    /// The daemon's log level: `--log-level`, else `log-level`, else `info`. Applied at
    /// start-up; a reload does not change it.
    public var logLevel: Logger.Level
    /// The files the trusted keys were read from: the `--trusted-key` flags if any, else
    /// every `trusted-key` of the file. Kept to report them; the keys themselves are in
    /// ``engine``.
    public var trustedKeyPaths: [String]
    /// Who may call the admin methods (see ``AccessPolicy``).
    public var accessPolicy: AccessPolicy

    /// Reads the configuration file (a missing file means the defaults) and applies `flags`.
    ///
    /// `environment` is consulted for `MINIUPDATE_SOCKET` only; tests pass their own.
    ///
    /// Throws `invalid-argument` for a malformed line, an unknown key, a
    /// single-valued key set twice, a malformed value, an invalid app id or unknown user in
    /// `app-owner.<app id>`, an unknown `admin-group` (each naming the file and line); for a
    /// trusted key file that is not a public key; and when `repository` is set without a
    /// trusted key.
    /// `io` when the file (up to 1 MiB) or a key file (up to 4096 bytes)
    /// cannot be read or is larger.
    public static func load(_ flags: DaemonFlags, environment: [String: String] = currentEnvironment()) throws -> DaemonConfiguration {
        var file = try ConfigurationFile(path: flags.configPath, text: "")
        if FileSystem.exists(flags.configPath) {
            let bytes = try FileSystem.readFile(flags.configPath, limit: 1 << 20)
            file = try ConfigurationFile(path: flags.configPath, text: String(decoding: bytes, as: UTF8.self))
        }
        return try DaemonConfiguration(file: file, flags: flags, environment: environment)
    }

    init(file: ConfigurationFile, flags: DaemonFlags, environment: [String: String]) throws {
        func invalid(_ entry: ConfigurationFile.Entry, _ expected: String) -> UpdateError {
            UpdateError(.invalidArgument, "\(file.path):\(entry.line): \(entry.key): expected \(expected), got \(String(reflecting: entry.value))")
        }
        func duration(_ key: String, _ fallback: Duration) throws -> Duration {
            guard let entry = file.value(key) else { return fallback }
            guard let value = SettingValue.duration(entry.value) else { throw invalid(entry, "a duration such as 30s, 10m or 2h") }
            return value
        }
        func size(_ key: String, _ fallback: Int64) throws -> Int64 {
            guard let entry = file.value(key) else { return fallback }
            guard let value = SettingValue.size(entry.value), value > 0 else { throw invalid(entry, "a size such as 512K, 64M or 4G") }
            return value
        }
        func count(_ key: String, _ fallback: Int) throws -> Int {
            guard let entry = file.value(key) else { return fallback }
            guard let value = Int(entry.value), value > 0 else { throw invalid(entry, "a positive whole number") }
            return value
        }

        let defaults = EngineLimits()
        let transfer = TransferLimits(
            connectTimeout: try duration("connect-timeout", defaults.transfer.connectTimeout),
            idleTimeout: try duration("idle-timeout", defaults.transfer.idleTimeout),
            transferTimeout: try duration("transfer-timeout", defaults.transfer.transferTimeout),
            lowSpeedLimit: try size("low-speed-limit", defaults.transfer.lowSpeedLimit),
            lowSpeedWindow: try duration("low-speed-time", defaults.transfer.lowSpeedWindow),
            maximumRedirects: try count("max-redirects", defaults.transfer.maximumRedirects),
            keepAliveTimeout: try duration("keep-alive-timeout", defaults.transfer.keepAliveTimeout)
        )
        let limits = EngineLimits(
            transfer: transfer,
            maximumIndexSize: Int(try size("max-index-size", Int64(defaults.maximumIndexSize))),
            maximumPackageSize: try size("max-package-size", defaults.maximumPackageSize),
            extraction: ExtractionLimits(
                maximumBytes: try size("max-unpacked-size", defaults.extraction.maximumBytes),
                maximumEntries: try count("max-files", defaults.extraction.maximumEntries)
            ),
            maximumConcurrentDownloads: try count("max-concurrent-downloads", defaults.maximumConcurrentDownloads)
        )
        var policy = AccessPolicy(daemonUID: getuid())
        if let entry = file.value("admin-group") {
            guard let gid = Self.groupID(entry.value) else { throw invalid(entry, "an existing group name or number") }
            policy.adminGroup = gid
        }
        for entry in file.entries where entry.key.hasPrefix(ConfigurationFile.appOwnerPrefix) {
            let app = String(entry.key.dropFirst(ConfigurationFile.appOwnerPrefix.count))
            guard AppID.isValid(app) else { throw invalid(entry, "app-owner.<app id> = <user>, with a valid app id") }
            guard let uid = Self.userID(entry.value) else { throw invalid(entry, "an existing user name or number") }
            policy.appOwners[app] = uid
        }
        accessPolicy = policy
        let defaultServer = ServerOptions()
        server = ServerOptions(
            maximumPendingBytes: Int(try size("max-client-queue", Int64(defaultServer.maximumPendingBytes))),
            maximumSubscriptionsPerConnection: try count("max-subscriptions", defaultServer.maximumSubscriptionsPerConnection),
            maximumBatchLength: try count("max-batch", defaultServer.maximumBatchLength),
            checkInterval: try duration("check-interval", defaultServer.checkInterval),
            checkRetryInterval: try duration("check-retry-interval", defaultServer.checkRetryInterval),
            maximumConnections: try count("max-clients", defaultServer.maximumConnections),
            accessPolicy: policy
        )

        if let level = flags.logLevel {
            logLevel = level
        } else if let entry = file.value("log-level") {
            guard let level = Logger.Level(rawValue: entry.value) else { throw invalid(entry, "trace, debug, info, notice, warning, error or critical") }
            logLevel = level
        } else {
            logLevel = .info
        }

        socketPath = flags.socket ?? environment[WireProtocol.socketEnvironmentVariable].flatMap { $0.isEmpty ? nil : $0 }
            ?? file.value("socket")?.value ?? WireProtocol.defaultSocketPath
        let repository = flags.repository ?? file.value("repository")?.value ?? ""
        trustedKeyPaths = flags.trustedKeys.isEmpty ? file.values("trusted-key").map(\.value) : flags.trustedKeys
        let keys = try trustedKeyPaths.map { try RepositoryPublicKey(contentsOfFile: $0) }
        if !repository.isEmpty, keys.isEmpty {
            throw UpdateError(.invalidArgument, "repository \(repository) is set but no trusted-key: every index must be verified")
        }
        engine = EngineConfiguration(
            stateDirectory: flags.stateDirectory ?? file.value("state-directory")?.value ?? Self.defaultStateDirectory,
            cacheDirectory: flags.cacheDirectory ?? file.value("cache-directory")?.value ?? Self.defaultCacheDirectory,
            repository: repository,
            trustedKeys: keys,
            limits: limits
        )
    }

    static func groupID(_ text: String) -> gid_t? {
        if let number = gid_t(text) { return number }
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        guard getgrnam_r(text, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return entry.gr_gid
    }

    static func userID(_ text: String) -> uid_t? {
        if let number = uid_t(text) { return number }
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        guard getpwnam_r(text, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return entry.pw_uid
    }

    /// The process's environment variables by name, read from `environ`: the default
    /// `environment` of ``load(_:environment:)``.
    public static func currentEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}
