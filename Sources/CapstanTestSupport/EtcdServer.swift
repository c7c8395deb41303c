public import Foundation

/// A real etcd (Debian's `etcd-server`) on 127.0.0.1 with free ports and a
/// temporary data directory, for tests and benchmarks.
public final class EtcdServer: Sendable {
    public let clientPort: Int
    public let directory: TemporaryDirectory
    public let process: ChildProcess

    /// Starts etcd and waits until it serves clients.
    public init(executable: String = "/usr/bin/etcd") async throws {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw ChildProcessError.exited(status: -1, log: "\(executable) not found: install etcd-server (ops/install-deps.sh)")
        }
        directory = try TemporaryDirectory(prefix: "capstan-etcd")
        let clientPort = try freeLoopbackPort()
        let peerPort = try freeLoopbackPort()
        self.clientPort = clientPort
        let client = "http://127.0.0.1:\(clientPort)"
        let peer = "http://127.0.0.1:\(peerPort)"
        process = try ChildProcess(
            executable: executable,
            arguments: [
                "--name", "test", "--data-dir", directory.appending("data"),
                "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", "test=\(peer)", "--initial-cluster-state", "new",
                "--logger", "zap", "--log-outputs", "stderr",
            ],
            logPath: directory.appending("etcd.log"))
        do {
            _ = try await process.waitForLog(containing: "serving client traffic")
        } catch {
            stop()
            throw error
        }
    }

    /// Kills etcd (by PID) and removes its data.
    public func stop() {
        process.kill()
        directory.remove()
    }

    deinit { stop() }
}
