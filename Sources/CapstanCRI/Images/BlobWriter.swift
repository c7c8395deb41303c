import CapstanSystem
import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Streams one blob into the store: bytes go to a new file in the store's `tmp/` as they
/// arrive, hashed on the way, and counted against the size the descriptor declares (or a
/// limit when none is declared). ``commit()`` renames the file into `blobs/sha256/` only when
/// both size and digest match; anything else removes it. No blob is ever held in memory.
package final class BlobWriter {
    let what: String
    let expected: Digest?
    /// Exact size required at commit, when the descriptor declares one.
    let declaredSize: Int64?
    /// Bytes accepted at most (the declared size, or the limit when none is declared).
    let limit: Int64
    let temporary: URL
    let destinationFolder: URL
    private var fd: Int32
    private var hasher = SHA256()
    private(set) var written: Int64 = 0

    /// Opens a fresh temporary file (O_EXCL, 0644: blobs are image content, and the store's
    /// folders are 0700) in `temporaryFolder`.
    init(
        what: String, expected: Digest?, declaredSize: Int64?, limit: Int64, temporaryFolder: URL,
        destinationFolder: URL
    ) throws {
        self.what = what
        self.expected = expected
        self.declaredSize = declaredSize
        self.limit = declaredSize.map { min($0, limit) } ?? limit
        self.destinationFolder = destinationFolder
        temporary = temporaryFolder.appending(path: "blob-\(UUID().uuidString)")
        fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CRIError.internal("cannot create \(temporary.path): \(errnoText())") }
        if let declaredSize, declaredSize > limit {
            discard()
            throw CRIError(.resourceExhausted, "\(what) declares \(declaredSize) bytes, more than the \(limit)-byte limit")
        }
    }

    deinit { discard() }

    /// Appends `bytes`; throws (and removes the file) once more arrive than allowed.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard fd >= 0 else { throw CRIError.internal("\(what): write after the blob was closed") }
        guard Int64(bytes.count) <= limit - written else {
            discard()
            if let declaredSize {
                throw CRIError.invalidArgument("\(what): the registry sent more than the \(declaredSize) bytes its descriptor declares")
            }
            throw CRIError(.resourceExhausted, "\(what) is larger than the \(limit)-byte limit")
        }
        hasher.update(bufferPointer: bytes)
        var offset = 0
        while offset < bytes.count {
            let count = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                let reason = errnoText()
                discard()
                throw CRIError.internal("cannot write \(what) to the image store: \(reason)")
            }
            offset += count
        }
        written += Int64(bytes.count)
    }

    /// Checks size and digest, then moves the blob into place (an identical blob already
    /// there is kept). Returns the blob's digest.
    @discardableResult
    func commit() throws -> Digest {
        guard fd >= 0 else { throw CRIError.internal("\(what): commit after the blob was closed") }
        if let declaredSize, written != declaredSize {
            discard()
            throw CRIError.invalidArgument("\(what): the registry sent \(written) bytes, but its descriptor declares \(declaredSize)")
        }
        let actual = Digest(hexDigits: hasher.finalize().hexString)
        if let expected, actual != expected {
            discard()
            throw CRIError.invalidArgument("\(what): content hashes to \(actual), not \(expected)")
        }
        let synced = fsync(fd) == 0
        close(fd)
        fd = -1
        let target = destinationFolder.appending(path: actual.hex)
        guard synced, rename(temporary.path, target.path) == 0 else {
            let reason = errnoText()
            unlink(temporary.path)
            throw CRIError.internal("cannot store \(what): \(reason)")
        }
        return actual
    }

    /// Closes and removes the temporary file (nothing when already committed or discarded).
    func discard() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
        unlink(temporary.path)
    }
}
