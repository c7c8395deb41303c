package import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

#if canImport(Glibc)
    private let systemWrite = Glibc.write
#elseif canImport(Darwin)
    private let systemWrite = Darwin.write
#endif

/// A private file or folder could not be read or written: which, doing what, and why.
package struct PrivateFileError: Error, CustomStringConvertible, Sendable {
    package var path: String
    package var message: String

    package init(path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    package var description: String { "\(path): \(message)" }
}

/// Files that hold keys and tokens. They are created with mode 0600 from
/// their first byte (never world-readable, not even between a write and a
/// chmod) and replaced atomically, so a crash leaves the old file or the new
/// one, never half of either. Used for the server's keys and tokens, the
/// GitOps webhook secret, the store's folder and the git mirror's.
package enum PrivateFile {
    package static func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path)
    }

    /// The file's bytes, or nil when it does not exist.
    package static func read(_ path: String) throws(PrivateFileError) -> Data? {
        guard exists(path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PrivateFileError(path: path, "cannot be read: \(String(cString: strerror(errno)))")
        }
        return data
    }

    package static func write(_ data: Data, to path: String) throws(PrivateFileError) {
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PrivateFileError(path: path, "cannot be created: \(String(cString: strerror(errno)))") }
        var failure: String?
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = systemWrite(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = String(cString: strerror(errno))
                    return
                }
                offset += written
            }
        }
        // The mode is exact whatever the umask, and the bytes are on disk before the rename.
        if failure == nil, fchmod(fd, 0o600) != 0 { failure = String(cString: strerror(errno)) }
        if failure == nil, fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        close(fd)
        if failure == nil, rename(temporary, path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary)
            throw PrivateFileError(path: path, "cannot be written: \(failure)")
        }
    }

    /// Creates a directory readable by its owner only (0700 from the
    /// `mkdir` itself; missing parents get the usual 0755). One that exists
    /// with wider permissions — made by an older Capstan — is narrowed to 0700.
    package static func makeDirectory(_ path: String) throws(PrivateFileError) {
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, parent != path, !exists(parent) {
            do {
                try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            } catch {
                throw PrivateFileError(path: parent, "cannot be created: \(error.localizedDescription)")
            }
        }
        if mkdir(path, 0o700) == 0 { return }
        guard errno == EEXIST else { throw PrivateFileError(path: path, "cannot be created: \(String(cString: strerror(errno)))") }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw PrivateFileError(path: path, "exists and is not a directory")
        }
        if info.st_mode & 0o077 != 0, chmod(path, 0o700) != 0 {
            throw PrivateFileError(path: path, "cannot be made private (0700): \(String(cString: strerror(errno)))")
        }
    }

    /// Runs `body` holding an exclusive lock on `<path>.lock`, so that a
    /// `capstan token create` and a starting server never interleave their
    /// read-modify-write of the same file.
    package static func withLock<T>(_ path: String, _ body: () throws -> T) throws -> T {
        let lockPath = path + ".lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PrivateFileError(path: lockPath, "cannot be opened: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw PrivateFileError(path: lockPath, "cannot be locked: \(String(cString: strerror(errno)))") }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }
}
