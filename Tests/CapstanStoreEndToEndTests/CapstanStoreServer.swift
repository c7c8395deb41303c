import CapstanTestSupport
import Foundation
import Logging

/// `capstan store serve` as a child process on a free loopback port.
final class CapstanStoreServer: Sendable {
    let port: Int
    let process: ChildProcess

    /// The built `capstan` executable: $CAPSTAN_BINARY, or the one beside the
    /// test bundle (SwiftPM puts all products in one folder).
    static func executable() throws -> String {
        var candidates: [String] = []
        if let explicit = ProcessInfo.processInfo.environment["CAPSTAN_BINARY"] { candidates.append(explicit) }
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if folder.path.hasSuffix(".xctest/Contents/MacOS") {
            folder = folder.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        }
        candidates.append(folder.appendingPathComponent("capstan").path)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/capstan").path)
        guard let found = candidates.first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw ChildProcessError.exited(status: -1, log: "capstan executable not found in \(candidates); run swift build first")
        }
        return found
    }

    init(dataDirectory: String, logPath: String, extraArguments: [String] = []) async throws {
        let port = try freeLoopbackPort()
        self.port = port
        process = try ChildProcess(
            executable: try Self.executable(),
            arguments: [
                "store", "serve", "--data-dir", dataDirectory, "--listen", "127.0.0.1:\(port)",
                "--auto-compaction-retention", "0", "--log-level", "warning",
            ] + extraArguments,
            logPath: logPath)
        do {
            _ = try await process.waitForLog(containing: "listening on 127.0.0.1:\(port)")
        } catch {
            process.kill()
            throw error
        }
    }

    var endpoint: String { "127.0.0.1:\(port)" }

    func kill(signal: Int32 = SIGKILL) { process.kill(signal: signal) }

    deinit { process.kill() }
}

let testLogger: Logger = {
    var logger = Logger(label: "capstan.store.e2e")
    logger.logLevel = .critical
    return logger
}()
