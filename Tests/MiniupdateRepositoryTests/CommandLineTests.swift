import Foundation
import MiniupdateCommandLine
import MiniupdateCore
import Testing

/// The pieces the three commands share, without a process.
@Suite struct CommandLineTests {
    @Test(arguments: [
        ("90s", Duration.seconds(90)), ("30m", .seconds(1800)), ("12h", .seconds(43_200)), ("7d", .seconds(604_800)),
        ("2w", .seconds(1_209_600)), ("1500ms", .milliseconds(1500)), ("45", .seconds(45)), ("0", .zero),
    ])
    func durationsReadAsWritten(_ text: String, _ expected: Duration) {
        #expect(SettingValue.duration(text) == expected)
    }

    @Test(arguments: ["", "d", "-5s", "+5s", "5x", "1.5h", " 5s", "99999999999999999d"])
    func malformedDurationsAreRefused(_ text: String) {
        #expect(SettingValue.duration(text) == nil)
    }

    @Test(arguments: [(Duration.seconds(604_800), "7d"), (.seconds(90), "90s"), (.seconds(3600), "1h"), (.milliseconds(1500), "1500ms"), (.seconds(1_209_600), "14d")])
    func durationsAreDescribedAsPeopleWriteThem(_ duration: Duration, _ text: String) {
        #expect(SettingValue.describe(duration) == text)
        #expect(DurationArgument(duration).defaultValueDescription == text)
        #expect(SettingValue.duration(text) == duration)
    }

    @Test func sizes() {
        #expect(SettingValue.size("64K") == 65_536)
        #expect(SettingValue.size("4G") == 4 << 30)
        #expect(SettingValue.size("12") == 12)
        #expect(SettingValue.size("4X") == nil)
        #expect(SettingValue.size("-1") == nil)
        #expect(SettingValue.size("99999999999T") == nil)
    }

    @Test func suggestionsAreForTyposOnly() {
        let commands = ["status", "check", "install", "apply", "rollback", "watch", "simulate"]
        #expect(Suggestion.closest(to: "stauts", in: commands) == "status")
        #expect(Suggestion.closest(to: "instal", in: commands) == "install")
        #expect(Suggestion.closest(to: "roll", in: commands) == "rollback")
        #expect(Suggestion.closest(to: "frobnicate", in: commands) == nil)
    }

    @Test func globalOptionsMoveAfterTheCommand() {
        let commands: Set = ["status", "check"]
        #expect(CommandLineTool.hoist(["--socket"], in: ["--socket", "/s", "status", "--json"], before: commands) == ["status", "--json", "--socket", "/s"])
        #expect(CommandLineTool.hoist(["--socket"], in: ["--socket=/s", "check", "a.b"], before: commands) == ["check", "a.b", "--socket=/s"])
        #expect(CommandLineTool.hoist(["--socket"], in: ["status", "--socket", "/s"], before: commands) == ["status", "--socket", "/s"])
    }

    @Test func humanText() {
        #expect(HumanText.count(1, "app") == "1 app")
        #expect(HumanText.count(0, "update") == "0 updates")
        #expect(HumanText.count(2, "entry", "entries") == "2 entries")
        #expect(HumanText.relative(1000 - 180, now: 1000) == "3 minutes ago")
        #expect(HumanText.relative(1000 + 2 * 86_400, now: 1000) == "in 2 days")
        #expect(HumanText.relative(1001, now: 1000) == "just now")
        #expect(HumanText.relative(1000 - 3600, now: 1000) == "1 hour ago")
        #expect(HumanText.bytes(512) == "512 B")
        #expect(HumanText.bytes(1536) == "1.5 KiB")
        #expect(HumanText.bytes(25 << 20) == "25.0 MiB")
        #expect(HumanText.utcTime(0) == "1970-01-01T00:00:00Z")
    }

    @Test func theProgressLineShowsBytesRateAndTimeLeft() {
        var line = ProgressLine(label: "com.example.weather 1.1.0")
        let start = ContinuousClock.now
        // The first report has no rate yet.
        #expect(line.text(done: 0, total: 24 << 20, now: start) == "com.example.weather 1.1.0 [--------------------] 0%  0 B/24.0 MiB")
        // 12 MiB in 4 s: 3 MiB/s, 12 MiB left, 4 seconds.
        #expect(line.text(done: 12 << 20, total: 24 << 20, now: start + .seconds(4))
            == "com.example.weather 1.1.0 [##########----------] 50%  12.0 MiB/24.0 MiB  3.0 MiB/s  ETA 4 seconds")
        #expect(line.text(done: 24 << 20, total: 24 << 20, now: start + .seconds(8)).hasPrefix("com.example.weather 1.1.0 [####################] 100%  24.0 MiB/24.0 MiB"))
    }

    /// Colour on a terminal only, and never with NO_COLOR set or TERM=dumb.
    @Test func colourOnlyOnATerminal() throws {
        // A pseudo-terminal, opened by hand: Glibc's module has no posix_openpt.
        let primary = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        try #require(primary >= 0)
        defer { close(primary) }
        var unlock: Int32 = 0
        var number: UInt32 = 0
        try #require(ioctl(primary, 0x4004_5431 /* TIOCSPTLCK */, &unlock) == 0 && ioctl(primary, 0x8004_5430 /* TIOCGPTN */, &number) == 0)
        let terminal = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY)
        try #require(terminal >= 0)
        defer { close(terminal) }
        let pipe = Pipe()

        unsetenv("NO_COLOR")
        setenv("TERM", "xterm", 1)
        #expect(Terminal.usesColour(fd: terminal))
        #expect(!Terminal.usesColour(fd: pipe.fileHandleForWriting.fileDescriptor))
        setenv("NO_COLOR", "1", 1)
        #expect(!Terminal.usesColour(fd: terminal))
        unsetenv("NO_COLOR")
        setenv("TERM", "dumb", 1)
        #expect(!Terminal.usesColour(fd: terminal))
        #expect(Style(enabled: false).red("x") == "x")
        #expect(Style(enabled: true).red("x") == "\u{1B}[31mx\u{1B}[0m")
    }
}
