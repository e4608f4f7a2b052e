#ifndef CMINIUPDATE_SYSTEM_H
#define CMINIUPDATE_SYSTEM_H

/// Wrappers for Linux calls that Swift's Glibc module hides behind _GNU_SOURCE.

/// syncfs(2): flushes the filesystem holding `fd`. One call instead of an fsync per file
/// when a staged tree of many files must be durable before its rename.
int miniupdate_syncfs(int fd);

#endif
