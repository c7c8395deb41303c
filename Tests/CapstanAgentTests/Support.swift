import CapstanAPI
import CapstanAPIServer
import CapstanAgent
import CapstanClient
import CapstanCore
import CapstanStore
import CapstanTestSupport
import CapstanTesting
import Foundation
import Logging
import OrderedCollections
import Testing

@testable import CapstanAPIServer

let testWriter = WriteOptions(fieldManager: "test")
let testNode = "node-a"

/// A registry over a real SQLite store in a temporary directory and a node
/// agent over a fake runtime, with short intervals so tests run in seconds.
///
/// With a `clock`, the agent waits and reads the time on it: the test moves time itself.
func withAgent(
    runtime: FakeRuntime = FakeRuntime(), backoff: Duration = .seconds(1), clock: ManualClock? = nil,
    _ body: (InProcessClient, FakeRuntime) async throws -> Void
) async throws {
    try await withCluster { client, root in
        try await runAgent(client: client, runtime: runtime, root: root, backoff: backoff, clock: clock) {
            try await body(client, runtime)
        }
    }
}

/// The registry alone; `root` is a folder for agents.
func withCluster(_ body: (InProcessClient, String) async throws -> Void) async throws {
    try await withInProcessRegistry(prefix: "capstan-agent") { registry, directory in
        try await body(InProcessClient(registry: registry), directory.appending("agent"))
    }
}

/// Runs an agent around `body`, stopping it afterwards (its containers stay, as with a real agent).
func runAgent(
    client: InProcessClient, runtime: FakeRuntime, root: String, backoff: Duration = .seconds(1), clock: ManualClock? = nil,
    _ body: () async throws -> Void
) async throws {
    var configuration = NodeAgent.Configuration(nodeName: testNode, runtimeSocket: "/nonexistent", rootDirectory: root)
    configuration.relistInterval = .milliseconds(100)
    configuration.statusInterval = .milliseconds(300)
    configuration.restartBackoff = backoff
    configuration.maxRestartBackoff = backoff * 4
    let agent =
        if let clock {
            try NodeAgent(
                configuration: configuration, client: client, logger: Logger(label: "agent"), runtime: runtime, clock: clock, wallClock: clock)
        } else {
            try NodeAgent(configuration: configuration, client: client, logger: Logger(label: "agent"), runtime: runtime)
        }
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await agent.run() }
        try await body()
        group.cancelAll()
    }
}

/// A pod bound to the test node.
func boundPod(_ name: String, containers: [JSONValue], initContainers: [JSONValue] = [], extra: JSONObject = [:]) -> JSONValue {
    var spec: JSONObject = ["nodeName": .string(testNode), "containers": .array(containers), "terminationGracePeriodSeconds": 3]
    if !initContainers.isEmpty { spec["initContainers"] = .array(initContainers) }
    for (key, value) in extra { spec[key] = value }
    return ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name), "namespace": "default"], "spec": .object(spec)]
}

func container(_ name: String, image: String = "busybox:1.35", _ extra: JSONObject = [:]) -> JSONValue {
    var json: JSONObject = ["name": .string(name), "image": .string(image)]
    for (key, value) in extra { json[key] = value }
    return .object(json)
}

/// Polls until `condition` holds for the pod (bounded; generous for a loaded machine).
/// With `clock`, each poll moves the agent's time on by `step`, so its loops (the
/// runtime relist, a pod's next sync) come round while the test waits.
@discardableResult
func waitForPod(
    _ client: InProcessClient, _ name: String, timeout: Duration = .seconds(30), advancing clock: ManualClock? = nil,
    step: Duration = .milliseconds(50),
    _ what: String, _ condition: (Pod) -> Bool
) async throws -> Pod {
    let deadline = ContinuousClock.now + timeout
    var last: Pod?
    while ContinuousClock.now < deadline {
        if let pod = try? await client.get(Pod.self, namespace: "default", name: name) {
            last = pod
            if condition(pod) { return pod }
        }
        clock?.advance(by: step)
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("pod \(name): \(what) did not happen; last status: \(last.map { JSONValue.object($0.status.json) }.map { "\($0)" } ?? "no pod")")
    throw CancellationError()
}

extension Pod {
    func containerStatus(_ name: String) -> ContainerStatus? { status.containerStatuses.first { $0.name == name } }
    var isReady: Bool { status.conditions.contains { $0.type == "Ready" && $0.isTrue } }
    func waitingReason(_ name: String) -> String? { containerStatus(name)?.state?["waiting"]?["reason"]?.stringValue }
}
