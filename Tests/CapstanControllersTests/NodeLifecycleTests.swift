import CapstanAPIServer
import CapstanClient
import CapstanControllers
import CapstanCore
import CapstanTestSupport
import Foundation
import Synchronization
import Testing

/// A clock tests move by hand, so grace periods and toleration seconds pass without waiting.
final class FakeClock: Sendable {
    private let current: Mutex<Date>
    init(_ start: Date = Date()) { current = Mutex(start) }
    var now: Date { current.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
    func set(_ date: Date) { current.withLock { $0 = date } }
}

extension ControllerManager.Configuration {
    /// Kubernetes' 40 s grace period on a fake clock, checked every 20 ms of real time.
    static func nodes(_ clock: FakeClock) -> Self {
        .init(nodeMonitorGracePeriod: .seconds(40), nodeMonitorPeriod: .milliseconds(20), now: { clock.now })
    }
}

@Suite struct NodeLifecycleTests {
    static let unreachable = "node.kubernetes.io/unreachable"
    static let notReady = "node.kubernetes.io/not-ready"

    /// A node that has posted Ready=True, and its Lease in `kube-node-lease`.
    func register(_ name: String, _ client: InProcessClient, clock: FakeClock) async throws {
        let stamp = Self.format(clock.now)
        let node: JSONValue = ["apiVersion": "v1", "kind": "Node", "metadata": ["name": .string(name)]]
        _ = try await client.create(Node.kindInfo, namespace: nil, object: node, options: writer)
        try await postStatus(name, ready: "True", client, clock: clock)
        let lease: JSONValue = [
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": ["name": .string(name), "namespace": "kube-node-lease"],
            "spec": ["holderIdentity": .string(name), "leaseDurationSeconds": 40, "renewTime": .string(stamp)],
        ]
        _ = try await client.create(Lease.kindInfo, namespace: "kube-node-lease", object: lease, options: writer)
    }

    /// What a node agent posts: every condition, with a fresh heartbeat.
    func postStatus(_ name: String, ready: String, _ client: InProcessClient, clock: FakeClock) async throws {
        let stamp = Self.format(clock.now)
        var node = try await client.get(Node.self, namespace: nil, name: name)
        node.status.conditions = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"].map { type in
            var condition = Condition(json: ["type": .string(type), "status": .string(type == "Ready" ? ready : "False")])
            condition.lastHeartbeatTime = stamp
            condition.lastTransitionTime = stamp
            return condition
        }
        _ = try await client.update(Node.kindInfo, namespace: nil, name: name, object: node.jsonValue, options: writer, subresource: "status")
    }

    func pod(_ name: String, on node: String, tolerations: [JSONValue]? = nil) -> JSONValue {
        var spec: JSONObject = ["nodeName": .string(node), "containers": [["name": "app", "image": "nginx:1.27"]]]
        if let tolerations { spec["tolerations"] = .array(tolerations) }
        return ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name)], "spec": .object(spec)]
    }

    static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    func node(_ name: String, _ client: InProcessClient) async throws -> Node { try await client.get(Node.self, namespace: nil, name: name) }

    func readiness(_ node: Node) -> String? { node.status.conditions.first { $0.type == "Ready" }?.status }

    func taintIDs(_ node: Node) -> Set<String> { Set(node.spec.taints.map { "\($0.key):\($0.effect)" }) }

    /// Moves the clock on until the controller calls the node Unknown (it must have seen the Lease first).
    func goSilent(_ name: String, _ client: InProcessClient, clock: FakeClock) async throws -> Node {
        #expect(
            await eventually {
                clock.advance(5)
                return try await readiness(node(name, client)) == "Unknown"
            })
        #expect(await eventually { try await taintIDs(node(name, client)).contains("\(Self.unreachable):NoExecute") })
        return try await node(name, client)
    }

    @Test func aStaleLeaseMakesTheNodeUnknownTaintedAndItsPodsNotReady() async throws {
        let clock = FakeClock()
        try await withCluster(configuration: .nodes(clock)) { client in
            try await register("n1", client, clock: clock)
            _ = try await client.create(Pod.kindInfo, namespace: "default", object: pod("web", on: "n1"), options: writer)
            #expect(await eventually { try await client.pods().first?.ready == true })

            let node = try await goSilent("n1", client, clock: clock)
            for type in ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"] {
                let condition = try #require(node.status.conditions.first { $0.type == type })
                #expect(condition.status == "Unknown")
                #expect(condition.reason == "NodeStatusUnknown")
                #expect(condition.message == "Kubelet stopped posting node status.")
            }
            #expect(taintIDs(node) == ["\(Self.unreachable):NoSchedule", "\(Self.unreachable):NoExecute"])
            #expect(node.spec.taints.allSatisfy { $0.timeAdded != nil })
            #expect(await eventually { try await client.pods().first?.ready == false })
            #expect(await eventually { try await !client.events(reason: "NodeNotReady", about: "n1").isEmpty })
            #expect(await eventually { try await !client.events(reason: "NodeNotReady", about: "web").isEmpty })
        }
    }

    @Test func aNodeReadyAgainLosesItsTaints() async throws {
        let clock = FakeClock()
        try await withCluster(configuration: .nodes(clock)) { client in
            try await register("n1", client, clock: clock)
            _ = try await goSilent("n1", client, clock: clock)
            try await postStatus("n1", ready: "True", client, clock: clock)
            #expect(await eventually { try await taintIDs(node("n1", client)).isEmpty })
            #expect(try await readiness(node("n1", client)) == "True")
            #expect(await eventually { try await !client.events(reason: "NodeReady", about: "n1").isEmpty })
        }
    }

    @Test func aNodeReportingNotReadyIsTaintedNotReady() async throws {
        let clock = FakeClock()
        try await withCluster(configuration: .nodes(clock)) { client in
            try await register("n1", client, clock: clock)
            _ = try await client.create(Pod.kindInfo, namespace: "default", object: pod("web", on: "n1"), options: writer)
            #expect(await eventually { try await client.pods().first?.ready == true })
            try await postStatus("n1", ready: "False", client, clock: clock)
            #expect(await eventually { try await taintIDs(node("n1", client)) == ["\(Self.notReady):NoSchedule", "\(Self.notReady):NoExecute"] })
            #expect(await eventually { try await client.pods().first?.ready == false })
            // Heartbeats keep coming, so the node is not Unknown, just not ready.
            #expect(try await readiness(node("n1", client)) == "False")
        }
    }

    @Test func podsAreEvictedWhenTheirTolerationSecondsRunOutAndNeverWithoutSeconds() async throws {
        let clock = FakeClock()
        try await withCluster(configuration: .nodes(clock)) { client in
            try await register("n1", client, clock: clock)
            let short: JSONValue = ["key": .string(Self.unreachable), "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60]
            let forever: JSONValue = ["key": .string(Self.unreachable), "operator": "Exists", "effect": "NoExecute"]
            _ = try await client.create(Pod.kindInfo, namespace: "default", object: pod("short", on: "n1", tolerations: [short]), options: writer)
            _ = try await client.create(Pod.kindInfo, namespace: "default", object: pod("forever", on: "n1", tolerations: [forever]), options: writer)
            // Gets the API server's default: 300 s.
            _ = try await client.create(Pod.kindInfo, namespace: "default", object: pod("defaulted", on: "n1"), options: writer)

            let node = try await goSilent("n1", client, clock: clock)
            let tainted = try #require(node.spec.taints.first { $0.effect == "NoExecute" }?.timeAdded.flatMap(parse))
            func deleting() async throws -> Set<String> {
                Set(try await client.pods().filter { $0.metadata.deletionTimestamp != nil }.map(\.metadata.name))
            }

            clock.set(tainted.addingTimeInterval(59))
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await deleting().isEmpty)
            clock.set(tainted.addingTimeInterval(61))
            #expect(await eventually { try await deleting() == ["short"] })
            let events = try await client.events(reason: "TaintManagerEviction", about: "short")
            #expect(events.first?["message"]?.stringValue == "Marking for deletion Pod default/short")
            let evicted = try #require(try await client.pods().first { $0.metadata.name == "short" })
            #expect(evicted.status.conditions.contains { $0.type == "DisruptionTarget" && $0.reason == "DeletionByTaintManager" })

            clock.set(tainted.addingTimeInterval(301))
            #expect(await eventually { try await deleting() == ["short", "defaulted"] })
            clock.set(tainted.addingTimeInterval(86_400))
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await deleting() == ["short", "defaulted"])
            #expect(try await client.events(reason: "TaintManagerEviction", about: "forever").isEmpty)
        }
    }

    @Test func anEvictedReplicaSetPodIsReplacedAndTheReplacementGetsItsFullTime() async throws {
        let clock = FakeClock()
        try await withCluster(configuration: .nodes(clock)) { client in
            try await register("n1", client, clock: clock)
            var replicaSet = replicaSetManifest("web", replicas: 1, labels: ["app": "web"])
            replicaSet[path: ["spec", "template", "spec", "nodeName"]] = "n1"
            replicaSet[path: ["spec", "template", "spec", "tolerations"]] = [
                ["key": .string(Self.unreachable), "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60]
            ]
            _ = try await client.create(ReplicaSet.kindInfo, namespace: "default", object: replicaSet, options: writer)
            #expect(await eventually { try await client.pods().filter(\.ready).count == 1 })
            let first = try #require(try await client.pods().first?.metadata.uid)

            _ = try await goSilent("n1", client, clock: clock)
            clock.advance(61)
            func active() async throws -> [Pod] { try await client.pods().filter { $0.metadata.deletionTimestamp == nil } }
            #expect(
                await eventually {
                    let pods = try await active()
                    return pods.count == 1 && pods.first?.metadata.uid != first
                })
            let replacement = try #require(try await active().first)
            // Seen on the tainted node only now: a full minute from here.
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await active().first?.metadata.uid == replacement.metadata.uid)
            // Time moves on until the replacement's minute is up (however late the controller first saw it).
            #expect(
                await eventually {
                    clock.advance(1)
                    return try await !active().contains { $0.metadata.uid == replacement.metadata.uid }
                })
        }
    }

    @Test func anUntoleratedNoExecuteTaintEvictsAtOnce() async throws {
        let clock = FakeClock()
        try await withCluster(configuration: .nodes(clock)) { client in
            try await register("n1", client, clock: clock)
            let dedicated: JSONValue = ["key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoExecute"]
            _ = try await client.create(Pod.kindInfo, namespace: "default", object: pod("db", on: "n1", tolerations: [dedicated]), options: writer)
            _ = try await client.create(Pod.kindInfo, namespace: "default", object: pod("web", on: "n1"), options: writer)
            #expect(
                await eventually {
                    let pods = try await client.pods()
                    return pods.count == 2 && pods.allSatisfy(\.ready)
                })
            _ = try await client.patch(
                Node.kindInfo, namespace: nil, name: "n1",
                patch: .merge(["spec": ["taints": [["key": "dedicated", "value": "db", "effect": "NoExecute"]]]]),
                options: writer)
            #expect(await eventually { try await client.pods().first { $0.metadata.name == "web" }?.metadata.deletionTimestamp != nil })
            try await Task.sleep(for: .milliseconds(200))
            #expect(try await client.pods().first { $0.metadata.name == "db" }?.metadata.deletionTimestamp == nil)
            // The user's taint is left alone.
            #expect(try await taintIDs(node("n1", client)) == ["dedicated:NoExecute"])
        }
    }

    func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}
