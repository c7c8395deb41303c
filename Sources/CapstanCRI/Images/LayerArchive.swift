import CCRIShims
import CapstanSystem
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Decodes gzip data with zlib, member after member (a gzip file may hold several).
final class GzipDecoder {
    private let decoder: OpaquePointer
    /// Whether the last member ended and no byte of a next one has come yet.
    private(set) var atMemberEnd = false

    init() throws {
        guard let decoder = capstan_gunzip_new() else { throw CRIError.internal("cannot start a gzip decoder (out of memory)") }
        self.decoder = decoder
    }

    deinit { capstan_gunzip_free(decoder) }

    /// Decodes all of `input`, handing output to `emit` in pieces of at most `chunk` bytes.
    func decode(
        _ input: UnsafeRawBufferPointer, what: String, chunk: Int = 1 << 18,
        emit: (UnsafeRawBufferPointer) throws -> Bool
    ) throws -> Bool {
        var output = [UInt8](repeating: 0, count: chunk)
        var offset = 0
        while offset < input.count {
            if atMemberEnd {
                guard capstan_gunzip_reset(decoder) == 0 else { throw CRIError.internal("cannot reset the gzip decoder") }
                atMemberEnd = false
            }
            var consumed = 0
            var produced = 0
            let status = output.withUnsafeMutableBytes { out in
                capstan_gunzip_step(
                    decoder, input.baseAddress!.assumingMemoryBound(to: UInt8.self) + offset, input.count - offset, &consumed,
                    out.baseAddress!.assumingMemoryBound(to: UInt8.self), out.count, &produced)
            }
            if status < 0 {
                throw CRIError.invalidArgument("\(what) is not valid gzip data: \(String(cString: capstan_gunzip_message(decoder)))")
            }
            offset += consumed
            if produced > 0 {
                let more = try output.withUnsafeBytes { try emit(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
                if !more { return false }
            }
            if status == 1 { atMemberEnd = true }
            if consumed == 0 && produced == 0 && status == 0 {
                throw CRIError.invalidArgument("\(what) is not valid gzip data: the decoder made no progress")
            }
        }
        return true
    }
}

/// Reads a layer or image archive file (gzip-compressed or plain tar), decompresses it
/// without ever producing more than `limit` bytes, checks every entry with ``TarGuard``, and
/// hands only checked bytes on. Memory use is a few buffers, whatever the archive's size.
enum ArchiveReader {
    private static let gzipMagic: [UInt8] = [0x1f, 0x8b]
    private static let refusedMagics: [(magic: [UInt8], name: String)] = [
        ([0x28, 0xb5, 0x2f, 0xfd], "zstd"), ([0x42, 0x5a, 0x68], "bzip2"), ([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], "xz"),
    ]

    /// Streams `file` through decompression and the guard into `emit`.
    /// - Parameter limit: most bytes the tar stream may have once decompressed.
    /// - Parameter what: names the archive in errors.
    /// - Returns: the guard, for its entry count.
    @discardableResult
    static func read(
        _ file: URL, limit: Int64, what: String, emit: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> TarGuard {
        let fd = open(file.path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw CRIError.internal("cannot open \(what) at \(file.path): \(errnoText())") }
        defer { close(fd) }
        var input = [UInt8](repeating: 0, count: 1 << 20)
        var guardian = TarGuard(what: what)
        var total: Int64 = 0
        var decoder: GzipDecoder?
        var first = true

        /// Passes decompressed bytes through the limit and the guard; false once the archive ended.
        func pass(_ bytes: UnsafeRawBufferPointer) throws -> Bool {
            guard Int64(bytes.count) <= limit - total else {
                throw CRIError(.resourceExhausted, "\(what) unpacks to more than the \(limit)-byte limit")
            }
            total += Int64(bytes.count)
            let allowed = try guardian.check(bytes)
            if allowed > 0 { try emit(UnsafeRawBufferPointer(rebasing: bytes[0..<allowed])) }
            return !guardian.isFinished
        }

        reading: while true {
            let count = input.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw CRIError.internal("cannot read \(what): \(errnoText())") }
            if count == 0 { break }
            let more = try input.withUnsafeBytes { buffer -> Bool in
                let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                if first {
                    first = false
                    if bytes.starts(with: gzipMagic) {
                        decoder = try GzipDecoder()
                    } else if let refused = refusedMagics.first(where: { bytes.starts(with: $0.magic) }) {
                        throw CRIError.invalidArgument("\(what) is \(refused.name)-compressed; only gzip and plain tar layers are supported")
                    }
                }
                if let decoder {
                    return try decoder.decode(bytes, what: what, emit: pass)
                }
                return try pass(bytes)
            }
            if !more { break reading }
        }
        if let decoder, !guardian.isFinished, !decoder.atMemberEnd {
            throw CRIError.invalidArgument("\(what) is cut short: its gzip stream does not end")
        }
        try guardian.finish()
        return guardian
    }
}

/// Unpacks layer archives with GNU tar, fed through ``ArchiveReader`` on its standard input,
/// so tar only ever sees checked entries and never more than the limit allows.
enum LayerUnpacker {
    /// Unpacks `archive` into the empty folder `target` (keeping numeric owners and modes).
    /// On error, what was unpacked so far stays in `target` for the caller to remove.
    static func unpack(_ archive: URL, into target: URL, limit: Int64, what: String) async throws {
        // Blocking reads, writes and waitpid: on the blocking pool, never the cooperative threads.
        try await BlockingPool.shared.run { try unpackBlocking(archive, into: target, limit: limit, what: what) }
    }

    private static func unpackBlocking(_ archive: URL, into target: URL, limit: Int64, what: String) throws {
        // A write to a tar that already exited must fail with EPIPE, not kill the process
        // (the CLI does not ignore SIGPIPE); SIGPIPE goes to the writing thread, this one.
        // The pool thread keeps SIGPIPE blocked afterwards, which suits any later blocking work.
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)
        var input: [Int32] = [-1, -1]
        var output: [Int32] = [-1, -1]
        guard capstan_pipe_cloexec(&input) == 0 else { throw CRIError.internal("pipe: \(errnoText())") }
        guard capstan_pipe_cloexec(&output) == 0 else {
            close(input[0])
            close(input[1])
            throw CRIError.internal("pipe: \(errnoText())")
        }
        let arguments = ["-x", "--numeric-owner", "--same-permissions", "-f", "-", "-C", target.path]
        let pid: Int32
        do {
            pid = try Subprocess.spawn("tar", arguments, stdin: input[0], stdout: output[1], stderr: output[1])
        } catch {
            for fd in input + output { close(fd) }
            throw error
        }
        close(input[0])
        close(output[1])
        let messages = DataBox()
        let messagesDone = DispatchSemaphore(value: 0)
        let outputFD = output[0]
        // Its own thread, not the pool: this job waits for it, and a pool full of such
        // waiting jobs would leave no thread to run their readers.
        Thread {
            messages.set(Subprocess.readAll(outputFD, limit: 16 << 10))
            close(outputFD)
            messagesDone.signal()
        }.start()

        var failure: (any Error)?
        do {
            try ArchiveReader.read(archive, limit: limit, what: what) { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = Glibc.write(input[1], bytes.baseAddress! + offset, bytes.count - offset)
                    if written < 0 && errno == EINTR { continue }
                    // EPIPE: tar stopped reading; its exit status and messages say why.
                    guard written > 0 else { throw TarStopped() }
                    offset += written
                }
            }
        } catch is TarStopped {
        } catch {
            failure = error
            kill(pid, SIGKILL)
        }
        close(input[1])
        messagesDone.wait()
        let code = Subprocess.waitForExit(pid)
        if let failure { throw failure }
        guard code == 0 else {
            let text = String(decoding: messages.get(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw CRIError.invalidArgument("\(what) could not be unpacked (tar exit \(code)): \(text.prefix(2000))")
        }
    }

    private struct TarStopped: Error {}
}
