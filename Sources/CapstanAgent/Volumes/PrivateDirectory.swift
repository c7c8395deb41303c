import CoreFoundation
import Foundation
import Glibc

/// Folders only the agent may enter: its data directory and what sits directly
/// under it (pod volumes, the subPath mounts, container logs) hold Secrets and pod
/// specs. Each folder gets its mode from mkdir(2), never from a later chmod, so it
/// is never open for a moment.
enum PrivateDirectory {
    /// Makes `path`, and any missing parent, with mode 0700. An existing `path`
    /// that others may enter (made by an older Capstan, or by hand) is closed to
    /// them; existing parents are left alone.
    static func make(_ path: String) throws {
        var made = ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            made += "/" + component
            guard mkdir(made, 0o700) == 0 || errno == EEXIST else {
                throw VolumeError("cannot create \(made): \(String(cString: strerror(errno)))")
            }
        }
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { throw VolumeError("\(path) is not a folder") }
        if info.st_mode & 0o077 != 0, chmod(path, 0o700) != 0 {
            throw VolumeError("cannot close \(path) to other users: \(String(cString: strerror(errno)))")
        }
    }
}
