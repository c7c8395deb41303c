import CapstanAPI
import CapstanAPIServer
import CapstanCore
import CapstanTestSupport
import Foundation
import OrderedCollections

@testable import CapstanClient

let writer = WriteOptions(fieldManager: "http-client-test")

func configMap(_ name: String, labels: [String: String] = [:], data: String = "1") -> JSONValue {
    var metadata: JSONObject = ["name": .string(name)]
    if !labels.isEmpty {
        metadata["labels"] = .object(JSONObject(uniqueKeysWithValues: labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
    }
    return ["apiVersion": "v1", "kind": "ConfigMap", "metadata": .object(metadata), "data": ["a": .string(data)]]
}

func node(_ name: String) -> JSONValue {
    ["apiVersion": "v1", "kind": "Node", "metadata": ["name": .string(name)]]
}

/// A running `capstan server` (TLS, admin token) and an ``HTTPClusterClient`` built from its admin kubeconfig.
func withServer(_ body: (RunningServer, HTTPClusterClient) async throws -> Void) async throws {
    let server = try await RunningServer()
    defer { server.stop() }
    let client = try HTTPClusterClient.fromKubeconfig(path: server.kubeconfig)
    do {
        try await body(server, client)
    } catch {
        await client.shutdown()
        throw error
    }
    await client.shutdown()
}

/// The `APIError` a call threw, or nil if it succeeded or threw something else.
func apiError(_ call: () async throws -> Void) async -> APIError? {
    do {
        try await call()
        return nil
    } catch let error as APIError {
        return error
    } catch {
        return nil
    }
}

/// A `capstan server` whose data directory outlives it, so it can be stopped,
/// its store changed offline (compacted) and started again on the same data.
final class RestartableServer {
    let directory: TemporaryDirectory
    var process: ChildProcess?

    init() throws {
        directory = try TemporaryDirectory(prefix: "capstan-httpclient")
    }

    var dataDirectory: String { directory.appending("data") }
    var kubeconfig: String { dataDirectory + "/admin.kubeconfig" }

    func start() async throws {
        let port = try freeLoopbackPort()
        let process = try ChildProcess(
            executable: RunningServer.capstanBinary,
            arguments: ["server", "--data-dir", dataDirectory, "--listen", "127.0.0.1:\(port)", "--durability", "normal"],
            logPath: directory.appending("server-\(port).log"))
        self.process = process
        _ = try await process.waitForLog(containing: "capstan server listening on")
    }

    /// SIGTERM, then SIGKILL after ten seconds.
    func stop() {
        guard let process else { return }
        kill(process.pid, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        process.kill()
        self.process = nil
    }

    func remove() {
        stop()
        directory.remove()
    }
}
