public import Foundation
import Synchronization

/// A child process the test started: output captured to a file, stopped by
/// its own PID (never by name).
public final class ChildProcess: Sendable {
    public let pid: Int32
    public let logPath: String
    private let process: Process
    private let stopped = Atomic<Bool>(false)

    /// Starts `executable` with `arguments`; stdout and stderr go to `logPath`.
    public init(executable: String, arguments: [String], logPath: String, environment: [String: String]? = nil) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? log.close()
        self.process = process
        self.logPath = logPath
        pid = process.processIdentifier
    }

    deinit { kill() }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    public var isRunning: Bool { process.isRunning }

    /// How the process ended: its exit status, or the signal that ended it
    /// (see `terminatedBySignal`). Only meaningful once it has stopped.
    public var terminationStatus: Int32 { process.terminationStatus }

    public var terminatedBySignal: Bool { process.terminationReason == .uncaughtSignal }

    /// Sends `signal` to the process (SIGKILL by default) and reaps it.
    public func kill(signal: Int32 = SIGKILL) {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        if process.isRunning { Foundation.kill(pid, signal) }
        process.waitUntilExit()
    }

    /// Waits (bounded) until the log contains `text`; returns the log.
    public func waitForLog(containing text: String, timeout: Duration = .seconds(300)) async throws -> String {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            let current = log
            if current.contains(text) { return current }
            if !process.isRunning {
                throw ChildProcessError.exited(status: process.terminationStatus, log: current)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw ChildProcessError.timedOut(waitingFor: text, log: log)
    }
}

public enum ChildProcessError: Error, CustomStringConvertible {
    case exited(status: Int32, log: String)
    case timedOut(waitingFor: String, log: String)

    public var description: String {
        switch self {
        case .exited(let status, let log): "child exited with status \(status); log:\n\(log)"
        case .timedOut(let text, let log): "timed out waiting for '\(text)'; log:\n\(log)"
        }
    }
}

/// Runs a command to completion (bounded by `timeout`) and returns its
/// exit status and combined output.
public func runCommand(
    _ executable: String, _ arguments: [String], input: String? = nil, environment: [String: String]? = nil,
    timeout: Duration = .seconds(30)
) async throws -> (status: Int32, output: String) {
    let directory = try TemporaryDirectory(prefix: "capstan-cmd")
    defer { directory.remove() }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let outputPath = directory.appending("out")
    FileManager.default.createFile(atPath: outputPath, contents: nil)
    let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
    process.standardOutput = output
    process.standardError = output
    if let input {
        let inputPath = directory.appending("in")
        try input.write(toFile: inputPath, atomically: true, encoding: .utf8)
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: inputPath))
    } else {
        process.standardInput = FileHandle.nullDevice
    }
    try process.run()
    try? output.close()
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while process.isRunning && clock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
    if process.isRunning {
        kill(process.processIdentifier, SIGKILL)
    }
    process.waitUntilExit()
    let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    return (process.terminationStatus, text)
}

/// A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it).
public func freeLoopbackPort() throws -> Int {
    let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socketFD >= 0 else { throw POSIXError(.EMFILE) }
    defer { close(socketFD) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, length) }
    }
    guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &length) }
    }
    guard named == 0 else { throw POSIXError(.EADDRINUSE) }
    return Int(UInt16(bigEndian: address.sin_port))
}
