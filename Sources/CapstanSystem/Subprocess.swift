import CCRIShims
package import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What a finished child process left behind.
package struct ProcessResult: Sendable {
    /// Exit code, or 128 + signal number when the child was killed by a signal.
    package var exitCode: Int32
    package var standardOutput: Data
    package var standardError: Data

    /// Standard error as text, trimmed, for error messages.
    package var errorText: String {
        String(decoding: standardError, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Raised when a helper program cannot be started or fails.
package struct SubprocessError: Error, CustomStringConvertible {
    package var program: String
    package var arguments: [String]
    package var message: String
    package var description: String { "\(program) \(arguments.joined(separator: " ")): \(message)" }
}

/// Starts helper programs (runc, CNI plugins, ip, tar) with posix_spawn.
///
/// Every descriptor above stderr is closed in the child, so helpers never inherit the gRPC
/// socket or another container's pipes (runc in particular keeps whatever it inherits open
/// for the container's lifetime). Waiting happens on the ``BlockingPool``, never on the
/// cooperative threads, because `waitpid` and pipe reads block.
package enum Subprocess {
    /// Runs `program` to completion, feeding `input` on stdin and capturing stdout and stderr.
    /// - Parameter timeout: when set, the child gets SIGKILL after this long and the result
    ///   reports exit code 137.
    /// - Parameter outputLimit: bytes kept of stdout and of stderr each; the rest is read and
    ///   dropped, so a chatty child can neither block nor exhaust our memory.
    package static func run(
        _ program: String, _ arguments: [String], environment: [String: String]? = nil,
        input: Data? = nil, timeout: Duration? = nil, outputLimit: Int = 64 << 20
    ) async throws -> ProcessResult {
        try await BlockingPool.shared.run {
            try runBlocking(program, arguments, environment: environment, input: input, timeout: timeout, outputLimit: outputLimit)
        }
    }

    /// Runs `program` and throws unless it exits 0; returns its stdout.
    @discardableResult
    package static func check(
        _ program: String, _ arguments: [String], environment: [String: String]? = nil,
        input: Data? = nil, timeout: Duration? = nil
    ) async throws -> Data {
        let result = try await run(program, arguments, environment: environment, input: input, timeout: timeout)
        guard result.exitCode == 0 else {
            let detail =
                result.errorText.isEmpty
                ? String(decoding: result.standardOutput, as: UTF8.self) : result.errorText
            throw SubprocessError(
                program: program, arguments: arguments,
                message: "exit \(result.exitCode): \(detail.prefix(2000))")
        }
        return result.standardOutput
    }

    /// Synchronous body of `run`; call only from a thread that may block.
    package static func runBlocking(
        _ program: String, _ arguments: [String], environment: [String: String]? = nil,
        input: Data? = nil, timeout: Duration? = nil, outputLimit: Int = 64 << 20
    ) throws -> ProcessResult {
        var stdinPipe: [Int32] = [-1, -1]
        var stdoutPipe: [Int32] = [-1, -1]
        var stderrPipe: [Int32] = [-1, -1]
        guard capstan_pipe_cloexec(&stdinPipe) == 0, capstan_pipe_cloexec(&stdoutPipe) == 0,
            capstan_pipe_cloexec(&stderrPipe) == 0
        else {
            throw SubprocessError(program: program, arguments: arguments, message: "pipe: \(errnoText())")
        }
        let pid: pid_t
        do {
            pid = try spawn(
                program, arguments, environment: environment,
                stdin: stdinPipe[0], stdout: stdoutPipe[1], stderr: stderrPipe[1])
        } catch {
            for fd in stdinPipe + stdoutPipe + stderrPipe { close(fd) }
            throw error
        }
        close(stdinPipe[0])
        close(stdoutPipe[1])
        close(stderrPipe[1])

        // Feed stdin and drain stderr on helper threads so a chatty child can't deadlock us.
        // Their own threads, not the pool: this job waits for them, and a pool full of
        // such waiting jobs would leave no thread to run the helpers.
        let inputFD = stdinPipe[1]
        let feeder = Thread {
            if let input, !input.isEmpty {
                input.withUnsafeBytes { buffer in
                    var offset = 0
                    while offset < buffer.count {
                        let written = write(inputFD, buffer.baseAddress! + offset, buffer.count - offset)
                        if written <= 0 { break }
                        offset += written
                    }
                }
            }
            close(inputFD)
        }
        feeder.start()
        let errorBox = DataBox()
        let errorFD = stderrPipe[0]
        let errorDone = DispatchSemaphore(value: 0)
        let errorReader = Thread {
            errorBox.set(readAll(errorFD, limit: outputLimit))
            close(errorFD)
            errorDone.signal()
        }
        errorReader.start()

        var timer: (any DispatchSourceTimer)?
        if let timeout {
            let source = DispatchSource.makeTimerSource()
            let (seconds, attoseconds) = timeout.components
            source.schedule(deadline: .now() + .nanoseconds(Int(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)))
            source.setEventHandler { kill(pid, SIGKILL) }
            source.resume()
            timer = source
        }
        let output = readAll(stdoutPipe[0], limit: outputLimit)
        close(stdoutPipe[0])
        errorDone.wait()
        let code = waitForExit(pid)
        timer?.cancel()
        return ProcessResult(exitCode: code, standardOutput: output, standardError: errorBox.get())
    }

    /// Spawns a child with the given descriptors as its stdio and nothing else open.
    /// - Parameter newSession: start the child in its own session (setsid), so it outlives us
    ///   and our terminal signals.
    package static func spawn(
        _ program: String, _ arguments: [String], environment: [String: String]? = nil,
        stdin: Int32, stdout: Int32, stderr: Int32, newSession: Bool = false
    ) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        capstan_spawn_close_from(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if newSession { flags |= Int32(capstan_spawn_setsid_flag()) }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaultSignals = sigset_t()
        sigfillset(&defaultSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)

        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let environmentList = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let envp = environmentList.map { strdup($0) } + [nil]
        defer { for pointer in envp { free(pointer) } }

        var pid: pid_t = 0
        let status = posix_spawnp(&pid, program, &actions, &attributes, argv, envp)
        guard status == 0 else {
            throw SubprocessError(
                program: program, arguments: arguments, message: "spawn: \(String(cString: strerror(status)))")
        }
        return pid
    }

    /// Blocks until `pid` exits; returns its exit code (128 + signal when signalled).
    package static func waitForExit(_ pid: Int32) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        return exitCode(fromWaitStatus: status)
    }

    /// Decodes a `waitpid` status the way shells do.
    package static func exitCode(fromWaitStatus status: Int32) -> Int32 {
        let signal = status & 0x7f
        if signal == 0 { return (status >> 8) & 0xff }
        return 128 + signal
    }

    /// Reads `fd` to EOF, keeping at most `limit` bytes.
    package static func readAll(_ fd: Int32, limit: Int = .max) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count > 0 {
                let room = limit - data.count
                if room > 0 { data.append(contentsOf: buffer[0..<min(count, room)]) }
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                break
            }
        }
        return data
    }
}

/// Text of the current `errno`.
package func errnoText() -> String { String(cString: strerror(errno)) }

/// A Data cell shared between a reader thread and its waiter.
package final class DataBox: Sendable {
    private let data = Mutex(Data())
    package init() {}
    package func set(_ value: Data) { data.withLock { $0 = value } }
    package func get() -> Data { data.withLock { $0 } }
}
