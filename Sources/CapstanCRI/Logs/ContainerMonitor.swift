import CCRIShims
import CapstanSystem
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What the shim tells a container's monitor process (written as `monitor.json` in the
/// container's folder).
package struct ContainerMonitorConfiguration: Codable, Sendable {
    package var containerID: String
    package var runcRoot: String
    package var bundle: String
    /// The container's state folder: `init.pid`, `exit.json`, `runc.log` go here.
    package var directory: String
    /// CRI log file; empty discards output.
    package var logPath: String
    /// The container's memory cgroup folder, read after exit to tell OOM kills apart.
    package var memoryCgroup: String
}

/// The per-container process (`capstan cri-monitor DIR`) that owns a container's stdio and
/// exit status, so both survive restarts of the shim, like containerd's shims do.
///
/// It makes itself a child subreaper, runs `runc create` with its own pipes as the
/// container's stdout and stderr, reports `ok <pid>` (or `error <reason>`) as one line on its
/// stdout, then copies output into the CRI log file until the container exits, and writes
/// `exit.json` with the exit code when it reaps the container's init process. SIGUSR1 makes
/// it reopen the log file (ReopenContainerLog after rotation).
package enum ContainerMonitor {
    /// Runs a spare monitor: waits for its container folder as one line on stdin (EOF, when
    /// the shim goes away unused, ends it quietly), sends its diagnostics to the folder's
    /// `monitor.log`, then runs as `run(directory:)`.
    package static func runSpare() -> Int32 {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.count < 4096 {
            let count = read(0, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return 0 }
            if byte == UInt8(ascii: "\n") { break }
            line.append(byte)
        }
        let directory = String(decoding: line, as: UTF8.self)
        let diagnostics = open("\(directory)/monitor.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        if diagnostics >= 0 { dup2(diagnostics, 2) }
        if devNull >= 0 { dup2(devNull, 0) }
        return run(directory: directory)
    }

    /// Runs the monitor; returns the process exit code.
    package static func run(directory: String) -> Int32 {
        let configuration: ContainerMonitorConfiguration
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: directory).appending(path: "monitor.json"))
            configuration = try JSONDecoder().decode(ContainerMonitorConfiguration.self, from: data)
        } catch {
            report("error cannot read monitor.json: \(error)")
            return 1
        }
        if capstan_set_child_subreaper() != 0 {
            report("error cannot become a child subreaper: \(errnoText())")
            return 1
        }
        var stdoutPipe: [Int32] = [-1, -1]
        var stderrPipe: [Int32] = [-1, -1]
        guard capstan_pipe_cloexec(&stdoutPipe) == 0, capstan_pipe_cloexec(&stderrPipe) == 0 else {
            report("error pipe: \(errnoText())")
            return 1
        }
        let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        let pidFile = "\(configuration.directory)/init.pid"
        let runcLog = "\(configuration.directory)/runc.log"
        let runcPID: pid_t
        do {
            runcPID = try Subprocess.spawn(
                "runc",
                [
                    "--root", configuration.runcRoot, "--log", runcLog, "create", "--bundle", configuration.bundle,
                    "--pid-file", pidFile, configuration.containerID,
                ],
                stdin: devNull, stdout: stdoutPipe[1], stderr: stderrPipe[1])
        } catch {
            report("error \(error)")
            return 1
        }
        close(stdoutPipe[1])
        close(stderrPipe[1])
        let createStatus = Subprocess.waitForExit(runcPID)
        guard createStatus == 0,
            let pidText = try? String(contentsOfFile: pidFile, encoding: .utf8),
            let initPID = Int32(pidText.trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            let log = (try? String(contentsOfFile: runcLog, encoding: .utf8)) ?? ""
            let lastError = log.split(separator: "\n").last(where: { $0.contains("error") }) ?? log.split(separator: "\n").last ?? ""
            report("error runc create exited \(createStatus): \(lastError.prefix(1500))")
            return 1
        }
        report("ok \(initPID)")
        // From here on nobody reads our stdout; keep it from holding the shim's pipe.
        dup2(devNull, 1)

        let writer = LogFileWriter(path: configuration.logPath)
        // SIGUSR1 (ReopenContainerLog) reopens the log file. Dispatch turns the signal into an
        // event on its own thread; ignoring it first keeps the default action (exit) away.
        signal(SIGUSR1, SIG_IGN)
        let reopenSource = DispatchSource.makeSignalSource(signal: SIGUSR1, queue: .global())
        reopenSource.setEventHandler { writer.reopen() }
        reopenSource.resume()
        defer { reopenSource.cancel() }
        let readersDone = DispatchGroup()
        for (fd, stream) in [(stdoutPipe[0], CRILogFormatter.Stream.stdout), (stderrPipe[0], .stderr)] {
            readersDone.enter()
            // Threads of their own, not the blocking pool: they copy for as long as the
            // container lives, and would hold pool threads for that long.
            Thread {
                copyOutput(from: fd, stream: stream, to: writer)
                readersDone.leave()
            }.start()
        }

        var status: Int32 = 0
        while true {
            let reaped = waitpid(-1, &status, 0)
            if reaped == initPID { break }
            if reaped < 0 && errno != EINTR {
                // No children left: the container's init was reaped elsewhere; record it as lost.
                status = 255 << 8
                break
            }
        }
        let exitCode = Subprocess.exitCode(fromWaitStatus: status)
        let finishedAt = nowNanoseconds()
        // Processes that daemonised inside the container may keep the pipes open; don't wait forever.
        _ = readersDone.wait(timeout: .now() + .seconds(2))
        let oomKilled = memoryCgroupRecordedOOMKill(configuration.memoryCgroup)
        let exit = ContainerExit(
            exitCode: exitCode, finishedAt: finishedAt,
            reason: oomKilled ? "OOMKilled" : exitCode == 0 ? "Completed" : "Error")
        do {
            try JSONEncoder.sorted.encode(exit).writeAtomically(
                to: URL(fileURLWithPath: configuration.directory).appending(path: "exit.json"))
        } catch {
            FileHandle.standardError.write(Data("cannot record exit: \(error)\n".utf8))
            return 1
        }
        return 0
    }

    private static func report(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    private static func copyOutput(from fd: Int32, stream: CRILogFormatter.Stream, to writer: LogFileWriter) {
        let formatter = CRILogFormatter()
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 32 * 1024)
        while true {
            let count = read(fd, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            pending.append(contentsOf: chunk[0..<count])
            let records = formatter.takeRecords(from: &pending, stream: stream, now: nowNanoseconds())
            if !records.isEmpty { writer.write(records) }
        }
        writer.write(formatter.finalRecord(for: pending, stream: stream, now: nowNanoseconds()))
        close(fd)
    }

    private static func memoryCgroupRecordedOOMKill(_ folder: String) -> Bool {
        guard let text = try? String(contentsOfFile: "\(folder)/memory.oom_control", encoding: .utf8) else { return false }
        for line in text.split(separator: "\n") where line.hasPrefix("oom_kill ") {
            return (Int(line.dropFirst(9)) ?? 0) > 0
        }
        return false
    }
}

/// Appends CRI log records to a file from several threads; reopens on request.
final class LogFileWriter: Sendable {
    private let path: String
    private let descriptor: Mutex<Int32>

    init(path: String) {
        self.path = path
        descriptor = Mutex(Self.open(path))
    }

    func write(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        descriptor.withLock { fd in
            guard fd >= 0 else { return }
            bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0 && errno == EINTR { continue }
                    if written <= 0 { return }
                    offset += written
                }
            }
        }
    }

    func reopen() {
        descriptor.withLock { fd in
            if fd >= 0 { close(fd) }
            fd = Self.open(path)
        }
    }

    private static func open(_ path: String) -> Int32 {
        guard !path.isEmpty else { return -1 }
        let folder = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
    }
}
