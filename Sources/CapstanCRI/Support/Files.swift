package import CDispatch
import CapstanSystem
package import CoreFoundation
package import Foundation

#if canImport(Glibc)
    package import Glibc
#endif

extension JSONEncoder {
    /// An encoder with stable key order, so files diff cleanly and tests can compare them.
    package static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

extension Data {
    /// Writes to a temporary sibling, fsyncs, and renames over `url`, so readers and crashes
    /// see either the old or the new content.
    /// - Parameter mode: the file's mode from its creation on (0600 unless said otherwise:
    ///   the shim's records hold pod specs, and pod specs hold values taken from Secrets).
    package func writeAtomically(to url: URL, mode: mode_t = 0o600) throws {
        let temporary = url.deletingLastPathComponent().appending(path: ".\(url.lastPathComponent).\(UUID().uuidString)")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw CRIError.internal("cannot write \(temporary.path): \(errnoText())") }
        let ok = withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { return false }
                offset += written
            }
            return true
        }
        fsync(fd)
        close(fd)
        guard ok, rename(temporary.path, url.path) == 0 else {
            unlink(temporary.path)
            throw CRIError.internal("cannot write \(url.path): \(errnoText())")
        }
    }
}

/// Creates the folder `url`, and any missing parent, with mkdir(2) and `mode`, so no folder
/// ever exists with a wider mode than asked. Folders that already exist are left as they are.
package func makeDirectories(_ url: URL, mode: mode_t) throws {
    let path = url.standardizedFileURL.path
    if mkdir(path, mode) == 0 { return }
    switch errno {
    case EEXIST:
        var status = stat()
        guard stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR else {
            throw CRIError.internal("cannot create folder \(path): something else is there")
        }
    case ENOENT where path != "/":
        try makeDirectories(url.standardizedFileURL.deletingLastPathComponent(), mode: mode)
        guard mkdir(path, mode) == 0 || errno == EEXIST else {
            throw CRIError.internal("cannot create folder \(path): \(errnoText())")
        }
    default:
        throw CRIError.internal("cannot create folder \(path): \(errnoText())")
    }
}

/// Bytes and inodes under a folder (not following symlinks, counting hard links once each time met).
package func diskUsage(of url: URL) -> (bytes: UInt64, inodes: UInt64) {
    var bytes: UInt64 = 0
    var inodes: UInt64 = 0
    guard
        let enumerator = FileManager.default.enumerator(
            at: url, includingPropertiesForKeys: [.totalFileAllocatedSizeKey], options: [])
    else { return (0, 0) }
    for case let file as URL in enumerator {
        inodes += 1
        var status = stat()
        if lstat(file.path, &status) == 0 { bytes += UInt64(status.st_blocks) * 512 }
    }
    return (bytes, inodes)
}
