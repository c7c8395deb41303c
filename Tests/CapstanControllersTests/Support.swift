import CapstanAPI
import CapstanAPIServer
import CapstanClient
import CapstanControllers
import CapstanCore
import CapstanStore
import CapstanTestSupport
import CapstanTesting
import Foundation
import Logging
import OrderedCollections
import Synchronization

@testable import CapstanAPIServer

let writer = WriteOptions(fieldManager: "test")

/// A registry over a real SQLite store in a temporary directory, the
/// controllers and a stand-in node agent running against it.
func withCluster(
    agent: FakeNodeAgent = FakeNodeAgent(), configuration: ControllerManager.Configuration = .init(), _ body: (InProcessClient) async throws -> Void
) async throws {
    try await withInProcessRegistry(prefix: "capstan-controllers") { registry, _ in
        let client = InProcessClient(registry: registry)
        let manager = ControllerManager(client: client, configuration: configuration, logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await manager.run() }
            group.addTask { try await agent.run(client) }
            try await body(client)
            group.cancelAll()
        }
    }
}

/// Plays the node agent: marks every new pod Running, and Ready after
/// `readyDelay` — except pods whose first image is `never-ready`, which stay
/// Running and not ready. Through `pods/status`, as the real agent writes.
struct FakeNodeAgent: Sendable {
    var readyDelay: Duration = .milliseconds(50)

    func run(_ client: InProcessClient) async throws {
        let pods = Informer<Pod>(client: client, kind: BuiltinKinds.pod, logger: Logger(label: "agent"))
        let changes = pods.changes()
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await pods.run() }
            for await change in changes {
                guard case .added(let pod) = change else { continue }
                group.addTask { await start(pod, client) }
            }
        }
    }

    private func start(_ pod: Pod, _ client: InProcessClient) async {
        try? await Task.sleep(for: readyDelay)
        let ready = pod.spec.containers.first?.image != "never-ready"
        for _ in 0..<5 {
            guard var current = try? await client.get(Pod.self, namespace: pod.metadata.namespace, name: pod.metadata.name),
                current.metadata.uid == pod.metadata.uid
            else { return }
            let now = Self.timestamp()
            var status = current.status
            status.phase = "Running"
            status.startTime = now
            status.conditions = [
                Condition(type: "PodScheduled", status: true, time: now),
                Condition(type: "Initialized", status: true, time: now),
                Condition(type: "ContainersReady", status: ready, time: now),
                Condition(type: "Ready", status: ready, time: now),
            ]
            current.status = status
            do {
                _ = try await client.update(
                    Pod.kindInfo, namespace: pod.metadata.namespace, name: pod.metadata.name, object: current.jsonValue, options: writer,
                    subresource: "status")
                return
            } catch {
                continue
            }
        }
    }

    static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date())
    }
}

func deploymentManifest(
    _ name: String, replicas: Int64, image: String, strategy: JSONValue? = nil, extraSpec: JSONObject = [:]
) -> JSONValue {
    var spec: JSONObject = [
        "replicas": .int(replicas),
        "selector": ["matchLabels": ["app": .string(name)]],
        "template": [
            "metadata": ["labels": ["app": .string(name)]],
            "spec": ["containers": [["name": "app", "image": .string(image)]]],
        ],
    ]
    if let strategy { spec["strategy"] = strategy }
    for (key, value) in extraSpec { spec[key] = value }
    return ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": .string(name)], "spec": .object(spec)]
}

func replicaSetManifest(_ name: String, replicas: Int64, labels: [String: String]) -> JSONValue {
    let labelObject = JSONValue.object(
        JSONObject(uniqueKeysWithValues: labels.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) }))
    return [
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": ["name": .string(name)],
        "spec": [
            "replicas": .int(replicas),
            "selector": ["matchLabels": labelObject],
            "template": ["metadata": ["labels": labelObject], "spec": ["containers": [["name": "app", "image": "nginx:1.27"]]]],
        ],
    ]
}

extension InProcessClient {
    func pods(_ namespace: String = "default") async throws -> [Pod] {
        try await list(Pod.kindInfo, namespace: namespace, options: ListOptions()).items.compactMap { Pod(jsonValue: $0) }
    }

    func replicaSets(_ namespace: String = "default") async throws -> [ReplicaSet] {
        try await list(ReplicaSet.kindInfo, namespace: namespace, options: ListOptions()).items.compactMap { ReplicaSet(jsonValue: $0) }
    }

    func deployment(_ name: String) async throws -> Deployment {
        try await get(Deployment.self, namespace: "default", name: name)
    }

    /// Events with this reason about the named object.
    func events(reason: String, about name: String) async throws -> [JSONValue] {
        try await list(BuiltinKinds.event, namespace: "default", options: ListOptions()).items.filter {
            $0["reason"]?.stringValue == reason && $0[path: ["involvedObject", "name"]]?.stringValue == name
        }
    }

    func mergePatch(_ kind: KindInfo, _ name: String, _ patch: JSONValue) async throws {
        _ = try await self.patch(kind, namespace: "default", name: name, patch: .merge(patch), options: writer)
    }
}

extension Pod {
    var controllerUID: String? { metadata.ownerReferences.first { $0.controller }?.uid }
    var ready: Bool { status.conditions.contains { $0.type == "Ready" && $0.isTrue } }
}

/// What `kubectl rollout status` checks: the new spec observed and every replica updated and available.
func rolloutComplete(_ deployment: Deployment) -> Bool {
    let status = deployment.status
    let replicas = deployment.spec.replicas
    return (status.observedGeneration ?? 0) >= (deployment.metadata.generation ?? 0)
        && status.updatedReplicas == replicas && status.replicas == replicas && status.availableReplicas == replicas
        && !(status.conditions.contains { $0.type == "Progressing" && $0.reason == "ProgressDeadlineExceeded" })
}

/// A value tasks share (a Mutex cannot be captured by an escaping closure itself).
final class Shared<Value: Sendable>: Sendable {
    let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
}
