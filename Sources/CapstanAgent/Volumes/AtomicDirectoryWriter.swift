import Foundation
import Glibc

/// Writes a set of files into a volume directory so that a container never
/// sees half of an update, as the kubelet's AtomicWriter does: the files go
/// into a fresh `..<timestamp>` folder, the `..data` symlink is swapped to it
/// with one rename, and each visible name is a symlink through `..data`.
/// Nothing is rewritten when the content is unchanged.
enum AtomicDirectoryWriter {
    struct File: Equatable {
        var path: String
        var bytes: [UInt8]
        var mode: Int
    }

    /// - Returns: whether anything changed.
    @discardableResult
    static func write(_ files: [File], into directory: String) throws -> Bool {
        let manager = FileManager.default
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let dataLink = directory + "/..data"
        if let current = try? manager.destinationOfSymbolicLink(atPath: dataLink), matches(files, in: directory + "/" + current) {
            return false
        }
        for file in files {
            guard !file.path.isEmpty, !file.path.hasPrefix("/"),
                !file.path.split(separator: "/").contains(where: { $0 == ".." || $0.hasPrefix("..") })
            else {
                throw VolumeError("invalid file path \"\(file.path)\": paths must be relative and may not contain '..'")
            }
        }
        // A name, not a time anyone reads: the system clock keeps it fresh even when a test's clock stands still.
        let stamp = "..\(Int(Date().timeIntervalSince1970 * 1_000_000))"
        let staging = directory + "/" + stamp
        try manager.createDirectory(atPath: staging, withIntermediateDirectories: true)
        for file in files {
            let target = staging + "/" + file.path
            try manager.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try create(target, bytes: file.bytes, mode: mode_t(file.mode))
        }
        let previous = try? manager.destinationOfSymbolicLink(atPath: dataLink)
        let temporaryLink = directory + "/..data_tmp"
        try? manager.removeItem(atPath: temporaryLink)
        try manager.createSymbolicLink(atPath: temporaryLink, withDestinationPath: stamp)
        guard rename(temporaryLink, dataLink) == 0 else { throw VolumeError("cannot switch \(dataLink): \(String(cString: strerror(errno)))") }
        // Visible names: one symlink per top-level entry; stale ones removed.
        let visible = Set(files.map { String($0.path.split(separator: "/").first!) })
        for name in (try? manager.contentsOfDirectory(atPath: directory)) ?? [] where !name.hasPrefix("..") && !visible.contains(name) {
            try? manager.removeItem(atPath: directory + "/" + name)
        }
        for name in visible where (try? manager.destinationOfSymbolicLink(atPath: directory + "/" + name)) == nil {
            try? manager.removeItem(atPath: directory + "/" + name)
            try manager.createSymbolicLink(atPath: directory + "/" + name, withDestinationPath: "..data/" + name)
        }
        if let previous, previous != stamp { try? manager.removeItem(atPath: directory + "/" + previous) }
        return true
    }

    /// Creates a new file with exactly `mode` (its permission bits) before any byte
    /// is written. open(2) applies the process umask, which a threaded process cannot
    /// change safely, so the mode is set on the new descriptor itself: the file is
    /// never more open than `mode`, and it sits in the unpublished staging folder.
    private static func create(_ path: String, bytes: [UInt8], mode: mode_t) throws {
        let descriptor = Glibc.open(path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw VolumeError("cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        guard fchmod(descriptor, mode) == 0 else { throw VolumeError("cannot write \(path): \(String(cString: strerror(errno)))") }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { throw VolumeError("cannot write \(path): \(String(cString: strerror(errno)))") }
            offset += written
        }
    }

    private static func matches(_ files: [File], in folder: String) -> Bool {
        let manager = FileManager.default
        var expected = Set<String>()
        for file in files {
            expected.insert(file.path)
            guard let data = manager.contents(atPath: folder + "/" + file.path), Array(data) == file.bytes,
                let mode = (try? manager.attributesOfItem(atPath: folder + "/" + file.path))?[.posixPermissions] as? Int, mode == file.mode
            else { return false }
        }
        let present = (manager.enumerator(atPath: folder)?.allObjects as? [String] ?? []).filter { path in
            var isDirectory: ObjCBool = false
            return manager.fileExists(atPath: folder + "/" + path, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
        return Set(present) == expected
    }
}

/// A volume that cannot be set up: the pod waits in `ContainerCreating` and a
/// `FailedMount` event says why.
struct VolumeError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
