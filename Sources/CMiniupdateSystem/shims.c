#define _GNU_SOURCE
#include <unistd.h>
#include "CMiniupdateSystem.h"

int miniupdate_syncfs(int fd) {
    return syncfs(fd);
}
