import CapstanAPI
import CapstanAPIServer
import CapstanClient
import CapstanControllers
import CapstanCore
import CapstanTestSupport
import CapstanTesting
import Foundation
import OrderedCollections
import Testing

extension ControllerManager.Configuration {
    /// Kubernetes' 40 s grace period judged on a manual wall clock: grace
    /// periods and toleration seconds pass only when the test advances it.
    /// Passes run every 20 ms of real time — a cadence that decides nothing
    /// but retries a write lost to a conflict, as the monitor period does in
    /// production, which a monitor period on the manual clock never would.
    static func nodes(_ clock: ManualClock) -> Self {
        .init(nodeMonitorGracePeriod: .seconds(40), nodeMonitorPeriod: .milliseconds(20), clock: ContinuousClock(), wallClock: clock)
    }
}

@Suite struct NodeLifecycleTests {
    static let unreachable = "node.kubernetes.io/unreachable"
    static let notReady = "node.kubernetes.io/not-ready"

    /// A node that has posted Ready=True, and its Lease in `kube-node-lease`.
    func register(_ name: String, _ client: InProcessClient, clock: ManualClock) async throws {
        let stamp = Self.format(clock.currentDate)
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
    func postStatus(_ name: String, ready: String, _ client: InProcessClient, clock: ManualClock) async throws {
        let stamp = Self.format(clock.currentDate)
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
    func goSilent(_ name: String, _ client: InProcessClient, clock: ManualClock) async throws -> Node {
        #expect(
            await eventually {
                clock.advance(by: .seconds(5))
                return try await readiness(node(name, client)) == "Unknown"
            })
        #expect(await eventually { try await taintIDs(node(name, client)).contains("\(Self.unreachable):NoExecute") })
        return try await node(name, client)
    }

    @Test func aStaleLeaseMakesTheNodeUnknownTaintedAndItsPodsNotReady() async throws {
        let clock = ManualClock()
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
        let clock = ManualClock()
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
        let clock = ManualClock()
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
        let clock = ManualClock()
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

            let watched: Set<String> = ["short", "forever", "defaulted"]
            func deleting() async throws -> Set<String> { try await deletingPods(client).intersection(watched) }

            advance(clock, to: tainted.addingTimeInterval(59))
            try await completePass(client, marks: Self.markedNotReady)
            #expect(try await deleting().isEmpty)
            advance(clock, to: tainted.addingTimeInterval(61))
            #expect(await eventually { try await deleting() == ["short"] })
            let events = try await client.events(reason: "TaintManagerEviction", about: "short")
            #expect(events.first?["message"]?.stringValue == "Marking for deletion Pod default/short")
            let evicted = try #require(try await client.pods().first { $0.metadata.name == "short" })
            #expect(evicted.status.conditions.contains { $0.type == "DisruptionTarget" && $0.reason == "DeletionByTaintManager" })

            advance(clock, to: tainted.addingTimeInterval(301))
            #expect(await eventually { try await deleting() == ["short", "defaulted"] })
            advance(clock, to: tainted.addingTimeInterval(86_400))
            try await completePass(client, marks: Self.markedNotReady)
            #expect(try await deleting() == ["short", "defaulted"])
            #expect(try await client.events(reason: "TaintManagerEviction", about: "forever").isEmpty)
        }
    }

    @Test func anEvictedReplicaSetPodIsReplacedAndTheReplacementGetsItsFullTime() async throws {
        let clock = ManualClock()
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
            clock.advance(by: .seconds(61))
            func active() async throws -> [Pod] {
                try await client.pods().filter { $0.metadata.deletionTimestamp == nil && !$0.metadata.name.hasPrefix("barrier-") }
            }
            #expect(
                await eventually {
                    let pods = try await active()
                    return pods.count == 1 && pods.first?.metadata.uid != first
                })
            let replacement = try #require(try await active().first)
            // Seen on the tainted node only now: a full minute from here. (A whole
            // pass first, so the controller has seen it before the clock moves.)
            try await completePass(client, marks: Self.markedNotReady)
            clock.advance(by: .seconds(59))
            try await completePass(client, marks: Self.markedNotReady)
            #expect(try await active().contains { $0.metadata.uid == replacement.metadata.uid })
            clock.advance(by: .seconds(2))
            #expect(await eventually { try await !active().contains { $0.metadata.uid == replacement.metadata.uid } })
        }
    }

    @Test func anUntoleratedNoExecuteTaintEvictsAtOnce() async throws {
        let clock = ManualClock()
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
            try await completePass(client, marks: { $0.metadata.deletionTimestamp != nil })
            #expect(try await client.pods().first { $0.metadata.name == "db" }?.metadata.deletionTimestamp == nil)
            // The user's taint is left alone.
            #expect(try await taintIDs(node("n1", client)) == ["dedicated:NoExecute"])
        }
    }

    /// Moves the clock on to `date`.
    func advance(_ clock: ManualClock, to date: Date) {
        let seconds = date.timeIntervalSince(clock.currentDate)
        precondition(seconds >= 0, "the clock is already past \(date)")
        clock.advance(by: .nanoseconds(Int64(seconds * 1e9)))
    }

    /// Names of the pods being deleted.
    func deletingPods(_ client: InProcessClient) async throws -> Set<String> {
        Set(try await client.pods().filter { $0.metadata.deletionTimestamp != nil }.map(\.metadata.name))
    }

    /// A pod on a node that is not Ready, marked NotReady by the controller after the stand-in agent made it Ready.
    static func markedNotReady(_ pod: Pod) -> Bool { pod.status.conditions.contains { $0.type == "Ready" && $0.status == "False" } }

    /// Returns once the controller has finished a whole pass that began after
    /// this call, without sleeping: a pod is created on `n1` for the
    /// controller to act on (`marks` says when it has); once it has, a second
    /// one. The pass that acts on the second cannot be the one that acted on
    /// the first — that pass had listed its pods before the second existed —
    /// and passes run one at a time, so the first pass, which began after this
    /// call and so saw the clock as it is now, has finished when the second pod is marked.
    func completePass(_ client: InProcessClient, marks: @escaping (Pod) -> Bool) async throws {
        for _ in 0..<2 {
            let name = "barrier-\(UUID().uuidString.prefix(8).lowercased())"
            _ = try await client.create(Pod.kindInfo, namespace: "default", object: pod(name, on: "n1"), options: writer)
            try await eventually("the node lifecycle controller acted on \(name)") {
                try await client.pods().first { $0.metadata.name == name }.map(marks) == true
            }
        }
    }

    func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}
