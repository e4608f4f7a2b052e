import CMiniupdateSystem

/// How the daemon's allocator gives memory back to the system.
///
/// glibc raises its trim and mmap thresholds each time a large block is freed, up to
/// 32 MiB: after a start-up that reads 10,000 state files and a multi-megabyte index,
/// each thread's arena then keeps tens of megabytes it no longer uses (34 MiB of 39 MiB
/// with 10,000 apps). Fixing the thresholds at glibc's initial values turns that
/// adaptation off, so an idle daemon holds what it uses and large transient buffers go
/// back to the system when freed.
enum MemoryPolicy {
    static let threshold: CInt = 128 * 1024

    static func apply() {
        _ = miniupdate_fix_malloc_thresholds(threshold)
    }

    /// Gives the system back the free pages inside the heaps, too. A check of 10,000 apps
    /// decodes an index and builds results whose freed blocks lie between blocks still in
    /// use; no threshold returns those (7 MiB of a 28 MiB heap after such a check).
    static func releaseFreeMemory() {
        _ = miniupdate_release_free_memory()
    }
}
