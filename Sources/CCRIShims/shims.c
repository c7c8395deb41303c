#define _GNU_SOURCE
#include "CCRIShims.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>

int capstan_set_child_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

int capstan_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int capstan_spawn_close_from(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

short capstan_spawn_setsid_flag(void) { return POSIX_SPAWN_SETSID; }

int capstan_set_xattr(const char *path, const char *name, const char *value, unsigned long size) {
    return setxattr(path, name, value, size, 0);
}

int capstan_is_namespace_file(const char *path) {
    struct statfs info;
    if (statfs(path, &info) != 0) return -1;
    return info.f_type == 0x6e736673 ? 1 : 0; /* NSFS_MAGIC */
}

int capstan_open_beneath(int dirfd, const char *path) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    for (int attempt = 0; attempt < 16; attempt++) {
        long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
        if (fd >= 0 || errno != EAGAIN) return (int)fd;
    }
    return -1;
}
