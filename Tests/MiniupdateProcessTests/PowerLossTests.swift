import Foundation
import MiniupdateTestSupport
import Testing

/// Power loss at the filesystem level: the daemon's state and cache live on a small ext4
/// image mounted through a loop device. At a random instant of an update the daemon is
/// killed and the image file is copied at once. Whatever the daemon wrote without syncing
/// is still dirty in the page cache of the mounted filesystem and is not in the copy
/// (writeback waits 30 s, the journal commits every 60 s), so the copy is the disk as a
/// power cut would leave it. The copy is checked with `e2fsck`, mounted, checked for the
/// invariants, and served by a new daemon.
///
/// Root only (mount, loop devices); `MINIUPDATE_POWER_CUTS` sets the number of cuts (3 by
/// default; `docs/reliability.md` records a longer run).
@Suite(.serialized) struct PowerLossTests {
    static var canMount: Bool { getuid() == 0 && FileManager.default.fileExists(atPath: "/dev/loop-control") }

    @Test(.enabled(if: canMount, "needs root and loop devices"))
    func losingEveryUnsyncedWriteNeverLosesAnApp() async throws {
        let environment = ProcessInfo.processInfo.environment
        let cuts = environment["MINIUPDATE_POWER_CUTS"].flatMap { Int($0) } ?? 3
        let seed = environment["MINIUPDATE_CRASH_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1 ... .max)
        guard Self.writebackWaitsLongEnough() else {
            Issue.record("vm.dirty_expire_centisecs is below 30 s: the page cache would reach the image before the copy")
            return
        }
        var random = SplitMix64(seed: seed)
        let work = try TemporaryDirectory("mu-power")
        defer { work.remove() }
        let (image, snapshot, mountPoint) = (work.sub("disk.img"), work.sub("after-cut.img"), work.sub("disk"))
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        // Whatever happens, leave no filesystem mounted behind.
        defer { while umount2(mountPoint, Int32(MNT_DETACH)) == 0 {} }
        var violations: [String] = []
        var phases: [String: Int] = [:]
        for cut in 0..<cuts {
            try await Self.sh("truncate -s 192M \(image) && mkfs.ext4 -q -F \(image) && mount -o loop,commit=60 \(image) \(mountPoint)")
            let lab = try await CrashLab.make(stateRoot: mountPoint)
            var daemon = try await lab.start()
            // Sometimes an update is ready, so that the cut can fall in an apply.
            if random.next() % 2 == 0 {
                try lab.publish(CrashConsistencyTests.alpha)
                try await lab.checkAndWaitUntilReady(CrashConsistencyTests.alpha)
            }
            let phase: String
            if random.next() % 2 == 0, try await lab.status().apps.contains(where: { $0.stagedVersion != nil }) {
                phase = "apply"
                try await lab.send("applyUpdate", app: CrashConsistencyTests.alpha)
                try await Task.sleep(for: .microseconds(Int64(random.next() % 15_000)))
            } else {
                phase = "update"
                try lab.publish(CrashConsistencyTests.alpha)
                try await lab.send("checkForUpdate", app: CrashConsistencyTests.alpha)
                try await Task.sleep(for: .microseconds(Int64(random.next() % 800_000)))
            }
            phases[phase, default: 0] += 1
            // The cut: nothing more is written, and only what reached the device survives.
            daemon.signal(SIGKILL)
            _ = try await daemon.waitForExit()
            try await Self.sh("cp --sparse=always \(image) \(snapshot) && umount \(mountPoint)")
            let context = "cut \(cut + 1) (\(phase), seed \(seed))"
            let fsck = try await run("/sbin/e2fsck", ["-fy", snapshot])
            if fsck.0 >= 4 { violations.append("\(context): e2fsck found uncorrectable errors: \(fsck.1)") }
            try await Self.sh("mount -o loop \(snapshot) \(mountPoint)")
            violations += lab.violationsWhileStopped().map { "\(context): \($0)" }
            let partial = lab.partialDownload(of: CrashConsistencyTests.alpha)
            lab.http.clearLog()
            daemon = try await lab.start()
            violations += try await lab.violationsOnceSettled(resuming: partial).map { "\(context): \($0)" }
            daemon.signal(SIGKILL)
            _ = try await daemon.waitForExit()
            try await Self.sh("umount \(mountPoint) && rm -f \(image) \(snapshot)")
            lab.harness.repo.remove()
            lab.logs.remove()
            if !violations.isEmpty { break }
        }
        print("power loss: \(cuts) cuts \(phases.sorted { $0.key < $1.key }), seed \(seed), \(violations.count) violations")
        #expect(violations.isEmpty, "\(violations.joined(separator: "\n"))")
    }

    /// Dirty pages must stay unwritten for the few milliseconds between the kill and the
    /// copy; the kernel's default (30 s) does that.
    static func writebackWaitsLongEnough() -> Bool {
        let text = (try? String(contentsOfFile: "/proc/sys/vm/dirty_expire_centisecs", encoding: .utf8)) ?? ""
        return (Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) >= 3000
    }

    static func sh(_ command: String) async throws {
        let (status, _, error) = try await run("/bin/sh", ["-c", command])
        guard status == 0 else {
            Issue.record("\(command): \(error)")
            throw CancellationError()
        }
    }
}
