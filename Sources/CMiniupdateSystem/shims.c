#define _GNU_SOURCE
#include <malloc.h>
#include <unistd.h>
#include "CMiniupdateSystem.h"

int miniupdate_syncfs(int fd) {
    return syncfs(fd);
}

int miniupdate_fix_malloc_thresholds(int bytes) {
    return mallopt(M_TRIM_THRESHOLD, bytes) && mallopt(M_MMAP_THRESHOLD, bytes);
}

int miniupdate_release_free_memory(void) {
    return malloc_trim(0);
}
