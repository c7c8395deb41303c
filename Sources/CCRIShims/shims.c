#define _GNU_SOURCE
#include "CCRIShims.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/syscall.h>
#include <limits.h>
#include <stdlib.h>
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

#include <zlib.h>

struct capstan_gunzip {
    z_stream stream;
};

capstan_gunzip *capstan_gunzip_new(void) {
    capstan_gunzip *decoder = calloc(1, sizeof(capstan_gunzip));
    if (decoder == NULL) return NULL;
    // 15 + 16: the largest window, gzip framing only (no raw deflate, no zlib header).
    if (inflateInit2(&decoder->stream, 15 + 16) != Z_OK) {
        free(decoder);
        return NULL;
    }
    return decoder;
}

int capstan_gunzip_step(capstan_gunzip *decoder, const unsigned char *input, size_t input_length, size_t *consumed,
                        unsigned char *output, size_t output_length, size_t *produced) {
    uInt in_size = input_length > UINT_MAX ? UINT_MAX : (uInt)input_length;
    uInt out_size = output_length > UINT_MAX ? UINT_MAX : (uInt)output_length;
    decoder->stream.next_in = (Bytef *)input;
    decoder->stream.avail_in = in_size;
    decoder->stream.next_out = output;
    decoder->stream.avail_out = out_size;
    int status = inflate(&decoder->stream, Z_NO_FLUSH);
    *consumed = in_size - decoder->stream.avail_in;
    *produced = out_size - decoder->stream.avail_out;
    switch (status) {
    case Z_STREAM_END: return 1;
    case Z_OK: return 0;
    case Z_BUF_ERROR: return 0;  // no progress possible: needs more input or room
    default: return -1;
    }
}

int capstan_gunzip_reset(capstan_gunzip *decoder) { return inflateReset(&decoder->stream) == Z_OK ? 0 : -1; }

const char *capstan_gunzip_message(capstan_gunzip *decoder) {
    return decoder->stream.msg != NULL ? decoder->stream.msg : "corrupt data";
}

void capstan_gunzip_free(capstan_gunzip *decoder) {
    if (decoder == NULL) return;
    inflateEnd(&decoder->stream);
    free(decoder);
}
