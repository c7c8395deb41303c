import CCRIShims
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Starts a container's monitor (`<executable> cri-monitor <dir>`) in its own session and
/// waits for its one-line report that `runc create` succeeded.
package struct ContainerMonitorLauncher: Sendable {
    /// The capstan binary; the monitor is one of its subcommands.
    package var executable: String

    package struct Started: Sendable {
        package var monitorPID: Int32
        package var initPID: Int32
    }

    package func launch(_ configuration: ContainerMonitorConfiguration) async throws -> Started {
        let directory = URL(fileURLWithPath: configuration.directory)
        try JSONEncoder.sorted.encode(configuration).writeAtomically(to: directory.appending(path: "monitor.json"))
        let executable = executable
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try Self.launchBlocking(executable: executable, directory: configuration.directory) })
            }.start()
        }
    }

    private static func launchBlocking(executable: String, directory: String) throws -> Started {
        var report: [Int32] = [-1, -1]
        guard capstan_pipe_cloexec(&report) == 0 else { throw CRIError.internal("pipe: \(errnoText())") }
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        let diagnostics = open("\(directory)/monitor.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        defer {
            close(devNull)
            close(diagnostics)
            close(report[0])
        }
        let pid: pid_t
        do {
            pid = try Subprocess.spawn(
                executable, ["cri-monitor", directory], stdin: devNull, stdout: report[1],
                stderr: diagnostics >= 0 ? diagnostics : devNull, newSession: true)
        } catch {
            close(report[1])
            throw error
        }
        close(report[1])
        // Read one line only: processes started later may inherit nothing, but EOF is not needed.
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.count < 4096 {
            let count = read(report[0], &byte, 1)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 || byte == UInt8(ascii: "\n") { break }
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self)
        if text.hasPrefix("ok "), let initPID = Int32(text.dropFirst(3)) {
            return Started(monitorPID: pid, initPID: initPID)
        }
        // The monitor exits after reporting a failure; reap it now.
        _ = Subprocess.waitForExit(pid)
        let reason = text.hasPrefix("error ") ? String(text.dropFirst(6)) : "monitor exited without a report: \(text)"
        throw CRIError.internal("cannot create container: \(reason)")
    }
}
