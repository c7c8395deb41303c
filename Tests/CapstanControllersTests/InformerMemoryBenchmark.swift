import CapstanAPI
import CapstanAPIServer
import CapstanClient
import CapstanControllers
import CapstanCore
import CapstanScheduler
import CapstanTestSupport
import CapstanTesting
import Foundation
import Logging
import Testing

/// The memory the control loops' caches take with 5,000 pods in one process:
/// `separate` gives the scheduler, the controller manager and the endpoints
/// controller a factory each (three pod caches, as before the factory was
/// shared), `shared` gives them the one factory `ControlPlane` makes. A
/// measurement, not a check: skipped unless `CAPSTAN_INFORMER_MEMORY` is set.
///
///     CAPSTAN_INFORMER_MEMORY=separate swift test --skip-build --filter InformerMemoryBenchmark
///     CAPSTAN_INFORMER_MEMORY=shared   swift test --skip-build --filter InformerMemoryBenchmark
///
/// Run each mode in its own process: freed memory stays with malloc.
@Suite struct InformerMemoryBenchmark {
    static let mode = ProcessInfo.processInfo.environment["CAPSTAN_INFORMER_MEMORY"]
    static let podCount = 5_000

    @Test(.enabled(if: mode != nil)) func residentMemoryWithFiveThousandPods() async throws {
        let shared = Self.mode == "shared"
        try await withInProcessRegistry(prefix: "capstan-informer-memory") { registry, _ in
            let client = InProcessClient(registry: registry)
            let logger = Logger(label: "bench")
            for index in 0..<Self.podCount {
                _ = try await client.create(BuiltinKinds.pod, namespace: "default", object: Self.pod(index), options: writer)
            }
            let before = Self.residentKilobytes()
            let factories =
                shared
                ? Array(repeating: SharedInformerFactory(client: client, logger: logger), count: 1)
                : (0..<3).map { _ in SharedInformerFactory(client: client, logger: logger) }
            let forScheduler = factories[0]
            let forControllers = factories[shared ? 0 : 1]
            let forEndpoints = factories[shared ? 0 : 2]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for factory in factories { group.addTask { try await factory.run() } }
                group.addTask { try await Scheduler(client: client, logger: logger, informers: forScheduler).run() }
                group.addTask { try await ControllerManager(client: client, logger: logger, informers: forControllers).run() }
                group.addTask { try await EndpointsController(client: client, logger: logger, informers: forEndpoints).run() }
                // Every consumer asks for its informers when it starts: wait until all have.
                let expected = shared ? 7 : 2 + 6 + 2  // shared: pods, nodes, ReplicaSets, Deployments, Leases, namespaces, Services
                try await eventually("every consumer asked for its informers") { factories.reduce(0) { $0 + $1.informerCount } >= expected }
                for factory in factories { await factory.waitForCacheSync() }
                let after = Self.residentKilobytes()
                let peak = Self.status("VmHWM")
                print(
                    "informer memory (\(shared ? "shared" : "separate"), \(Self.podCount) pods, \(factories.reduce(0) { $0 + $1.informerCount }) informers): "
                        + "RSS before \(before) kB, after sync \(after) kB, delta \(after - before) kB, peak \(peak) kB")
                group.cancelAll()
            }
        }
    }

    static func pod(_ index: Int) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": .string("web-\(index)"), "labels": ["app": "web", "pod-template-hash": "5d8f7c9b6"]],
            "spec": [
                "nodeName": .string("node-\(index % 50)"),
                "containers": [
                    [
                        "name": "app", "image": "registry.local/web:1.0",
                        "env": [["name": "MODE", "value": "production"]],
                        "resources": ["requests": ["cpu": "100m", "memory": "64Mi"]],
                    ]
                ],
            ],
        ]
    }

    static func residentKilobytes() -> Int { status("VmRSS") }

    /// A `kB` figure from /proc/self/status.
    static func status(_ field: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return 0
    }
}
