import CCRIShims
import Foundation
import Glibc

/// A `subPath` opened inside its volume with no window between check and use.
///
/// A container can put symlinks in its own volumes and swap them at any
/// moment, so a subPath resolved to a path name first and mounted later can
/// be redirected in between (the kubelet's CVE-2017-1002101). Here the kernel
/// resolves the whole subPath with `openat2(RESOLVE_BENEATH)`, so no step,
/// symlinks included, may leave the volume, and the file or folder found is
/// held open; the agent then bind-mounts that descriptor (`/proc/self/fd/N`)
/// at a path of its own and gives the runtime that path. Whatever is swapped
/// into the volume afterwards, the container gets what was opened.
///
/// Symlinks that stay inside the volume are followed: a ConfigMap or Secret
/// key is itself a symlink through `..data`, and a subPath naming a key is
/// the common case.
enum SubPath {
    /// Opens `subPath` (relative, no `..`) beneath the folder `volume` as an
    /// `O_PATH` descriptor, creating missing folders (0755) one at a time, each
    /// inside the part already opened. The caller closes the descriptor.
    static func open(_ subPath: String, beneath volume: String) throws(VolumeError) -> Int32 {
        let root = Glibc.open(volume, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { throw failure("cannot open its volume", errno) }
        defer { close(root) }
        let components = subPath.split(separator: "/").map(String.init).filter { $0 != "." }
        var current = fcntl(root, F_DUPFD_CLOEXEC, 0)
        guard current >= 0 else { throw failure("cannot open its volume", errno) }
        for index in components.indices {
            let prefix = components[...index].joined(separator: "/")
            var next = capstan_open_beneath(root, prefix)
            if next < 0, errno == ENOENT {
                // `current` is the folder opened so far, checked to be inside the volume; mkdirat
                // creates exactly one entry in it and never follows a symlink put there meanwhile.
                if mkdirat(current, components[index], 0o755) != 0, errno != EEXIST {
                    let code = errno
                    close(current)
                    throw failure("cannot create \"\(prefix)\"", code)
                }
                next = capstan_open_beneath(root, prefix)
            }
            let code = errno
            close(current)
            guard next >= 0 else { throw failure("cannot open \"\(prefix)\"", code) }
            current = next
        }
        return current
    }

    private static func failure(_ what: String, _ code: Int32) -> VolumeError {
        switch code {
        case EXDEV:
            VolumeError("it leads outside its volume (through a symlink)")
        case ELOOP:
            VolumeError("\(what): it goes through a symlink loop or a /proc magic link")
        case ENOSYS:
            VolumeError("\(what): openat2(2) is not available; subPath needs Linux 5.6 or later")
        default:
            VolumeError("\(what): \(String(cString: strerror(code)))")
        }
    }
}
