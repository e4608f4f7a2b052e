import Foundation
import MiniupdateCore
import MiniupdateRepository
import MiniupdateTestSupport
import Synchronization
import Testing

@Suite struct FileSystemTests {
    /// A failed rename must not close the temporary file's descriptor a second time: in a
    /// daemon, another thread may have been given that number meanwhile, and would lose
    /// its file. A second thread here holds freshly opened descriptors while the writes
    /// fail; before the fix, some of them were closed under it.
    @Test func aFailedRenameClosesItsDescriptorOnce() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        // A file cannot replace a non-empty directory: every rename fails.
        let target = temp.sub("target")
        try writeTree(["keep": "x"], at: target)

        let stop = Atomic<Bool>(false)
        let stolen = Atomic<Int>(0)
        // It takes the two lowest free numbers, one of which is the writer's whenever the
        // writer has just closed its own, and holds them a moment.
        let bystander = Thread {
            while !stop.load(ordering: .relaxed) {
                let held = (0..<2).map { _ in open("/dev/null", O_RDONLY | O_CLOEXEC) }
                for _ in 0..<20 { _ = fcntl(held[0], F_GETFD) }
                for fd in held where fd >= 0 {
                    if fcntl(fd, F_GETFD) < 0 { stolen.add(1, ordering: .relaxed) } else { close(fd) }
                }
            }
        }
        bystander.start()
        for _ in 0..<1000 {
            #expect(throws: UpdateError.self) { try FileSystem.writeAtomically(Array("data".utf8), to: target) }
        }
        stop.store(true, ordering: .relaxed)
        #expect(stolen.load(ordering: .relaxed) == 0, "descriptors of another thread were closed")
        // Nothing is left behind but the directory it could not replace.
        #expect(try FileManager.default.contentsOfDirectory(atPath: temp.path) == ["target"])
    }
}
