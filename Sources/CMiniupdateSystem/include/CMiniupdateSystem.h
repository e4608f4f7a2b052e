#ifndef CMINIUPDATE_SYSTEM_H
#define CMINIUPDATE_SYSTEM_H

/// Wrappers for Linux calls that Swift's Glibc module hides behind _GNU_SOURCE.

/// syncfs(2): flushes the filesystem holding `fd`. One call instead of an fsync per file
/// when a staged tree of many files must be durable before its rename.
int miniupdate_syncfs(int fd);

/// mallopt(3) M_TRIM_THRESHOLD and M_MMAP_THRESHOLD, both set to `bytes`: fixing them
/// turns off glibc's raising of both after large frees. Returns 0 if either failed.
int miniupdate_fix_malloc_thresholds(int bytes);

/// malloc_trim(3) with no padding: hands every free page of every arena back to the
/// system, not only the top of the main heap. Returns 1 if memory was released.
int miniupdate_release_free_memory(void);

/// Sets the Swift concurrency runtime's global-enqueue hook to `hook`, unless one is set
/// already; returns 1 if it was set. SwiftNIO finds the hook with dlsym, which a binary
/// with the Swift runtime linked statically does not export; this reaches it by linking.
int miniupdate_install_enqueue_global_hook(void *hook);

#endif
