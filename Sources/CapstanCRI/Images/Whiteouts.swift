import CCRIShims
import CapstanSystem
package import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Converts OCI whiteouts in an unpacked layer to the form overlayfs understands.
///
/// OCI layers mark deletions with `.wh.<name>` files and opaque folders with `.wh..wh..opq`;
/// overlayfs expects a 0/0 character device named `<name>` and the `trusted.overlay.opaque`
/// xattr on the folder. Without this, files deleted in an upper layer would reappear.
package enum Whiteouts {
    /// Rewrites every whiteout under `root` in place.
    package static func convertToOverlay(in root: URL) throws {
        guard let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return }
        var found: [URL] = []
        for case let file as URL in enumerator where file.lastPathComponent.hasPrefix(".wh.") {
            found.append(file)
        }
        for file in found {
            let folder = file.deletingLastPathComponent()
            let name = file.lastPathComponent
            unlink(file.path)
            if name == ".wh..wh..opq" {
                let value = "y"
                guard capstan_set_xattr(folder.path, "trusted.overlay.opaque", value, UInt(value.utf8.count)) == 0 else {
                    throw CRIError.internal("cannot mark \(folder.path) opaque: \(errnoText())")
                }
            } else {
                let target = folder.appending(path: String(name.dropFirst(4))).path
                guard mknod(target, S_IFCHR, 0) == 0 else {
                    throw CRIError.internal("cannot create whiteout \(target): \(errnoText())")
                }
            }
        }
    }
}
