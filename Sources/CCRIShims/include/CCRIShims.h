// Thin wrappers for Linux calls that Swift cannot reach directly: variadic ones (prctl)
// and GNU extensions that Glibc's Swift module does not export without _GNU_SOURCE.
#ifndef CAPSTAN_CRI_SHIMS_H
#define CAPSTAN_CRI_SHIMS_H

#include <spawn.h>
#include <stddef.h>

/// Makes the calling process a child subreaper (PR_SET_CHILD_SUBREAPER), so orphaned
/// descendants, such as a container's init process once `runc create` exits, are
/// re-parented to it and it can collect their exit status. Returns 0 or -1 with errno.
int capstan_set_child_subreaper(void);

/// pipe2(fds, O_CLOEXEC): a pipe whose ends are not inherited across exec.
int capstan_pipe_cloexec(int fds[2]);

/// posix_spawn_file_actions_addclosefrom_np: closes every descriptor >= `from` in the child.
int capstan_spawn_close_from(posix_spawn_file_actions_t *actions, int from);

/// The POSIX_SPAWN_SETSID flag (start the child in a new session).
short capstan_spawn_setsid_flag(void);

/// setxattr(2) on a path.
int capstan_set_xattr(const char *path, const char *name, const char *value, unsigned long size);

/// 1 when `path` is on nsfs (a bind-mounted namespace), 0 when not, -1 with errno on error.
int capstan_is_namespace_file(const char *path);

/// openat2(2) with `O_PATH | O_CLOEXEC` and `RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS`:
/// opens `path` relative to `dirfd` with every step of the resolution, symlinks included,
/// kept inside `dirfd` by the kernel (an absolute symlink or a `..` that climbs out fails
/// with EXDEV). Retries the EAGAIN a concurrent rename can cause. Returns an O_PATH
/// descriptor, or -1 with errno (ENOSYS on kernels before 5.6).
int capstan_open_beneath(int dirfd, const char *path);

/// A gzip decoder (zlib's inflate with gzip framing; zlib's init calls are macros Swift
/// cannot call). Opaque to Swift.
typedef struct capstan_gunzip capstan_gunzip;

/// A new decoder, or NULL when out of memory.
capstan_gunzip *capstan_gunzip_new(void);

/// Decodes from `input` into `output`. Sets `consumed` and `produced` to the bytes used and
/// made. Returns 0 when more input or output room is needed, 1 at the end of a gzip member,
/// -1 on corrupt data (`capstan_gunzip_message` says why).
int capstan_gunzip_step(capstan_gunzip *decoder, const unsigned char *input, size_t input_length, size_t *consumed,
                        unsigned char *output, size_t output_length, size_t *produced);

/// Starts over for a following gzip member (a gzip file may hold several back to back).
int capstan_gunzip_reset(capstan_gunzip *decoder);

/// zlib's message for the last error, or "corrupt data".
const char *capstan_gunzip_message(capstan_gunzip *decoder);

void capstan_gunzip_free(capstan_gunzip *decoder);

#endif
