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

/* Declared by the Swift runtime (include/swift/Runtime/ConcurrencyHooks.def); a static
 * link binds this reference even though the archive keeps the symbol out of dlsym's reach. */
extern void *swift_task_enqueueGlobal_hook;

int miniupdate_install_enqueue_global_hook(void *hook) {
    void *expected = NULL;
    return __atomic_compare_exchange_n(&swift_task_enqueueGlobal_hook, &expected, hook, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
