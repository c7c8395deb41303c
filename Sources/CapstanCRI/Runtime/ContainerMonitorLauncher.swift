import CCRIShims
import CapstanSystem
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Starts containers' monitors and waits for each one's report that `runc create` succeeded.
///
/// Starting the capstan binary costs tens of milliseconds before it runs a line of ours
/// (dynamic linking, runtime start-up), a large share of CreateContainer. So the launcher
/// keeps one spare monitor already started and blocked reading its job from stdin: a
/// create hands the spare its container folder and immediately starts the next spare. A
/// spare whose shim goes away reads end-of-file and exits.
package actor ContainerMonitorLauncher {
    /// The capstan binary; the monitor is one of its subcommands.
    package let executable: String
    /// Passed to spares so they can be told apart (the shim's state root).
    package let label: String
    private var spare: Spare?

    package struct Started: Sendable {
        package var monitorPID: Int32
        package var initPID: Int32
    }

    /// A started monitor waiting for its job: its stdin (for the job) and stdout (for the report).
    private struct Spare {
        var pid: Int32
        var jobFD: Int32
        var reportFD: Int32
    }

    package init(executable: String, label: String) {
        self.executable = executable
        self.label = label
    }

    /// Writes `monitor.json`, hands the container to a monitor, and returns once `runc create`
    /// succeeded (with the monitor's and the container init's PIDs) or throws its error.
    package func launch(_ configuration: ContainerMonitorConfiguration) async throws -> Started {
        let directory = URL(fileURLWithPath: configuration.directory)
        try JSONEncoder.sorted.encode(configuration).writeAtomically(to: directory.appending(path: "monitor.json"))
        let monitor = try spare ?? startSpare()
        spare = try? startSpare()
        let job = Data((configuration.directory + "\n").utf8)
        // Blocks until `runc create` is done (seconds at most): the blocking pool's kind of work.
        return try await BlockingPool.shared.run { try Self.handOver(job, to: monitor) }
    }

    /// Ends the spare (it exits when its stdin closes).
    package func shutdown() {
        if let spare {
            close(spare.jobFD)
            close(spare.reportFD)
            var status: Int32 = 0
            _ = waitpid(spare.pid, &status, 0)
        }
        spare = nil
    }

    private func startSpare() throws -> Spare {
        var job: [Int32] = [-1, -1]
        var report: [Int32] = [-1, -1]
        guard capstan_pipe_cloexec(&job) == 0, capstan_pipe_cloexec(&report) == 0 else {
            throw CRIError.internal("pipe: \(errnoText())")
        }
        let devNull = open("/dev/null", O_WRONLY | O_CLOEXEC)
        defer {
            close(devNull)
            close(job[0])
            close(report[1])
        }
        do {
            let pid = try Subprocess.spawn(
                executable, ["cri-monitor", "--spare", label], stdin: job[0], stdout: report[1], stderr: devNull,
                newSession: true)
            return Spare(pid: pid, jobFD: job[1], reportFD: report[0])
        } catch {
            close(job[1])
            close(report[0])
            throw error
        }
    }

    private static func handOver(_ job: Data, to monitor: Spare) throws -> Started {
        defer { close(monitor.reportFD) }
        let written = job.withUnsafeBytes { write(monitor.jobFD, $0.baseAddress, $0.count) }
        close(monitor.jobFD)
        guard written == job.count else {
            _ = Subprocess.waitForExit(monitor.pid)
            throw CRIError.internal("cannot hand the container to its monitor: \(errnoText())")
        }
        // Read one line only: EOF is not needed (and would wait for runc's children).
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.count < 4096 {
            let count = read(monitor.reportFD, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 || byte == UInt8(ascii: "\n") { break }
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self)
        if text.hasPrefix("ok "), let initPID = Int32(text.dropFirst(3)) {
            return Started(monitorPID: monitor.pid, initPID: initPID)
        }
        // The monitor exits after reporting a failure; reap it now.
        _ = Subprocess.waitForExit(monitor.pid)
        let reason = text.hasPrefix("error ") ? String(text.dropFirst(6)) : "monitor exited without a report: \(text)"
        throw CRIError.internal("cannot create container: \(reason)")
    }
}
