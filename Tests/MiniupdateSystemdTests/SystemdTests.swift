import Foundation
import Logging
@testable import MiniupdateSystemd
import MiniupdateTestSupport
import Testing

@Suite(.serialized) struct SystemdTests {
    @Test func metadataKeysBecomeValidJournalFields() {
        #expect(JournalLogHandler.fieldName("app") == "MINIUPDATE_APP")
        #expect(JournalLogHandler.fieldName("version") == "MINIUPDATE_VERSION")
        #expect(JournalLogHandler.fieldName("message-id") == "MESSAGE_ID")
        #expect(JournalLogHandler.fieldName("code") == "MINIUPDATE_CODE")
        #expect(JournalLogHandler.fieldName("previous.version ä") == "MINIUPDATE_PREVIOUS_VERSION__")
        let long = JournalLogHandler.fieldName(String(repeating: "k", count: 100))
        #expect(long.count == 64)
        #expect(long.allSatisfy { ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9") || $0 == "_" })
        #expect(JournalLogHandler.priority(.critical) == 2 && JournalLogHandler.priority(.notice) == 5 && JournalLogHandler.priority(.debug) == 7)
    }

    @Test func notifierSpeaksTheNotifyProtocol() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let path = temp.sub("notify")
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0)
        setenv("NOTIFY_SOCKET", path, 1)
        defer { unsetenv("NOTIFY_SOCKET") }

        func receive() -> String {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(fd, &buffer, buffer.count, 0)
            return String(decoding: buffer[..<max(count, 0)], as: UTF8.self)
        }
        #expect(SystemdNotifier.isAvailable)
        let notifier = SystemdNotifier()
        notifier.ready()
        #expect(receive() == "READY=1")
        notifier.status("Idle: 3 apps\nsecond line")
        #expect(receive() == "STATUS=Idle: 3 apps second line")
        notifier.reloading()
        let reloading = receive()
        #expect(reloading.hasPrefix("RELOADING=1\nMONOTONIC_USEC="))
        #expect(UInt64(reloading.split(separator: "=").last ?? "") ?? 0 > 0)
        notifier.stopping()
        #expect(receive() == "STOPPING=1")
        notifier.watchdog()
        #expect(receive() == "WATCHDOG=1")
    }

    @Test func withoutSystemdNothingIsInherited() throws {
        unsetenv("LISTEN_FDS")
        unsetenv("LISTEN_PID")
        #expect(try SocketActivation.inheritedSocket() == nil)
        unsetenv("WATCHDOG_USEC")
        #expect(SystemdNotifier().watchdogInterval == nil)
        setenv("WATCHDOG_USEC", "30000000", 1)
        setenv("WATCHDOG_PID", "\(getpid())", 1)
        defer { unsetenv("WATCHDOG_USEC"); unsetenv("WATCHDOG_PID") }
        #expect(SystemdNotifier().watchdogInterval == .seconds(30))
    }
}
