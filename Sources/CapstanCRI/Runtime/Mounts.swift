import CCRIShims
import CapstanSystem
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Mount syscalls the runtime needs, with errors that say what failed.
package enum Mounts {
    /// Mounts an overlay of read-only `lowerLayers` (bottom first) with a writable `upper`.
    package static func mountOverlay(lowerLayers: [String], upper: String, work: String, at target: String) throws {
        // overlayfs lists the top-most lower layer first.
        let options = "lowerdir=\(lowerLayers.reversed().joined(separator: ":")),upperdir=\(upper),workdir=\(work)"
        guard mount("overlay", target, "overlay", 0, options) == 0 else {
            throw CRIError.internal("mount overlay at \(target): \(errnoText())")
        }
    }

    /// Detaches whatever is mounted at `target`; succeeds when nothing is.
    package static func unmount(_ target: String) throws {
        if umount2(target, Int32(MNT_DETACH)) != 0 && errno != EINVAL && errno != ENOENT {
            throw CRIError.internal("unmount \(target): \(errnoText())")
        }
    }

    /// Whether `path` is a bind-mounted namespace (its filesystem is nsfs).
    package static func isNamespaceFile(_ path: String) -> Bool {
        capstan_is_namespace_file(path) == 1
    }
}
