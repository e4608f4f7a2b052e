import Foundation
import MiniupdateCore
@testable import MiniupdateDaemon
import MiniupdateRepository
import MiniupdateTestSupport
import Testing

@Suite struct ConfigurationTests {
    func parse(_ text: String, flags: DaemonFlags = DaemonFlags(), environment: [String: String] = [:]) throws -> DaemonConfiguration {
        try DaemonConfiguration(file: ConfigurationFile(path: "test.conf", text: text), flags: flags, environment: environment)
    }

    @Test func defaultsWithoutAFile() throws {
        let configuration = try DaemonConfiguration.load(DaemonFlags(configPath: "/nonexistent/miniupdate.conf"), environment: [:])
        #expect(configuration.engine.stateDirectory == "/var/lib/miniupdate")
        #expect(configuration.engine.cacheDirectory == "/var/cache/miniupdate")
        #expect(configuration.socketPath == "/run/miniupdate/miniupdate.sock")
        #expect(configuration.engine.repository == "")
        // Every cold start checks, as the seed's platform does.
        #expect(configuration.server.checkInterval == .zero)
        #expect(configuration.logLevel == .info)
    }

    @Test func fileFlagsAndEnvironmentInOrderOfPrecedence() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let key = RepositorySigningKey().publicKey
        try key.fileContents.write(toFile: temp.sub("a.pub"), atomically: true, encoding: .utf8)
        let text = """
            # comment
            repository = https://updates.example.com/stable
              trusted-key = \(temp.sub("a.pub"))
            trusted-key = \(temp.sub("a.pub"))
            socket = /run/from-file.sock
            check-interval = 2m
            check-retry-interval = 30s
            max-package-size = 64M
            idle-timeout = 1500ms
            keep-alive-timeout = 5s
            log-level = debug
            max-batch = 8
            """
        var configuration = try parse(text)
        #expect(configuration.engine.repository == "https://updates.example.com/stable")
        #expect(configuration.engine.trustedKeys.count == 2)
        #expect(configuration.socketPath == "/run/from-file.sock")
        #expect(configuration.server.checkInterval == .seconds(120))
        #expect(configuration.server.checkRetryInterval == .seconds(30))
        #expect(configuration.engine.limits.maximumPackageSize == 64 << 20)
        #expect(configuration.engine.limits.transfer.idleTimeout == .milliseconds(1500))
        #expect(configuration.engine.limits.transfer.keepAliveTimeout == .seconds(5))
        #expect(configuration.logLevel == .debug)
        #expect(configuration.server.maximumBatchLength == 8)

        configuration = try parse(text, environment: ["MINIUPDATE_SOCKET": "/run/from-env.sock"])
        #expect(configuration.socketPath == "/run/from-env.sock")
        configuration = try parse(text, flags: DaemonFlags(socket: "/run/from-flag.sock", repository: "file:///srv/repo", logLevel: .error), environment: ["MINIUPDATE_SOCKET": "/run/from-env.sock"])
        #expect(configuration.socketPath == "/run/from-flag.sock")
        #expect(configuration.engine.repository == "file:///srv/repo")
        #expect(configuration.logLevel == .error)
    }

    @Test(arguments: [
        ("unknown = 1", "test.conf:1: unknown setting"),
        ("check-interval = soon", "test.conf:1: check-interval: expected a duration"),
        ("max-files = -3", "test.conf:1: max-files: expected a positive whole number"),
        ("max-package-size = 4X", "test.conf:1: max-package-size: expected a size"),
        ("log-level = loud", "test.conf:1: log-level"),
        ("socket = /a\nsocket = /b", "test.conf:2: socket is set twice"),
        ("# ok\nrepository", "test.conf:2: expected 'key = value'"),
        ("repository = https://example.com", "no trusted-key"),
        ("trusted-key = /nonexistent.pub", "/nonexistent.pub"),
    ])
    func refusesBadFilesWithTheLine(_ text: String, _ expected: String) {
        let error = #expect(throws: UpdateError.self) { try parse(text) }
        #expect(error?.message.contains(expected) == true, "\(String(describing: error))")
    }
}
