import CapstanAPI
import CapstanCore
import CapstanStore
import CapstanTestSupport
import Foundation
import Logging
import OrderedCollections
import ServiceLifecycle
import Synchronization

@testable import CapstanAPIServer

/// The API server running in this process on a free loopback port, over a
/// SQLite store in a temporary directory; stopped and removed afterwards.
struct InProcessServer {
    let server: APIServer
    let store: SQLiteStore
    let port: Int
    /// Tokens and, with `tls`, the certificates; `admin.kubeconfig` is written in its data directory.
    let security: ServerSecurity

    var registry: ResourceRegistry { server.registry }

    func connect(receiveBuffer: Int32? = nil) throws -> TestHTTPConnection {
        try TestHTTPConnection(port: port, receiveBuffer: receiveBuffer)
    }

    /// One request on a fresh connection.
    func request(_ method: String, _ path: String, json: JSONValue? = nil) async throws -> TestHTTPConnection.Response {
        try await connect().request(method, path, json: json)
    }

    /// `/metrics`, parsed into `name{labels}` → value.
    func scrape() async throws -> [String: Double] {
        let response = try await request("GET", "/metrics")
        var samples: [String: Double] = [:]
        for line in response.text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    /// - Parameters:
    ///   - tls: serve HTTPS with tokens, as `capstan server` does, instead of plain HTTP where everyone is admin.
    ///   - podStreaming: what answers pods' logs and exec (a fake, in tests).
    static func with(
        configure: (inout APIServer.Configuration) -> Void = { _ in }, tls: Bool = false, podStreaming: (any PodStreaming)? = nil,
        _ body: (InProcessServer) async throws -> Void
    ) async throws {
        try await TemporaryDirectory.with(prefix: "capstan-apiserver-http") { directory in
            var logger = Logger(label: "test")
            logger.logLevel = .warning
            let store = try SQLiteStore(directory: directory.path, options: .init(durability: .normal), logger: logger)
            defer { store.close() }
            var configuration = APIServer.Configuration(port: 0, capstanVersion: "test")
            configure(&configuration)
            let bound = Mutex<Int?>(nil)
            // Plain HTTP without tokens (every caller is admin), as `capstan server --insecure-http`; or HTTPS with tokens.
            let security = try ServerSecurity.prepare(dataDirectory: directory.path + "/security", tls: tls, names: tls ? ["127.0.0.1"] : [])
            var server = APIServer(configuration: configuration, store: store, backend: "sqlite", security: security, logger: logger) { port in
                bound.withLock { $0 = port }
            }
            server.podStreaming = podStreaming
            let group = ServiceGroup(configuration: .init(services: [server], logger: logger))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                defer { tasks.cancelAll() }
                let clock = ContinuousClock()
                // Bounded, and generous: the whole suite starts at once on a 2-core CI machine, and a
                // server bootstraps its RBAC policy and service-account key before it listens.
                let deadline = clock.now + .seconds(300)
                var port: Int?
                while port == nil, clock.now < deadline {
                    try await Task.sleep(for: .milliseconds(10))
                    port = bound.withLock { $0 }
                }
                guard let port else { throw TestHTTPConnection.Failure(description: "the in-process server did not start listening") }
                do {
                    try await body(InProcessServer(server: server, store: store, port: port, security: security))
                } catch {
                    await group.triggerGracefulShutdown()
                    throw error
                }
                await group.triggerGracefulShutdown()
                try await tasks.next()
            }
        }
    }
}

/// Test objects.
enum Objects {
    static func configMap(_ name: String, data: JSONValue = ["a": "1"], labels: JSONValue = .object([:])) -> JSONValue {
        ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name), "labels": labels], "data": data]
    }

    static func deployment(_ name: String, replicas: Int64 = 1) -> JSONValue {
        [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": .string(name)],
            "spec": [
                "replicas": .int(replicas), "selector": ["matchLabels": ["app": .string(name)]],
                "template": ["metadata": ["labels": ["app": .string(name)]], "spec": ["containers": [["name": "app", "image": "busybox"]]]],
            ],
        ]
    }

    static func pod(_ name: String) -> JSONValue {
        ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name)], "spec": ["containers": [["name": "app", "image": "busybox"]]]]
    }
}
