import CapstanCore
import Foundation
import OrderedCollections
import Testing

@testable import CapstanControllers

/// The node lifecycle rules on their own, without a cluster.
@Suite struct NodeHealthTests {
    func toleration(_ key: String?, _ op: String = "Exists", value: String? = nil, effect: String? = "NoExecute", seconds: Int64? = nil) -> Toleration
    {
        var json: JSONObject = ["operator": .string(op)]
        if let key { json["key"] = .string(key) }
        if let value { json["value"] = .string(value) }
        if let effect { json["effect"] = .string(effect) }
        if let seconds { json["tolerationSeconds"] = .int(seconds) }
        return Toleration(json: json)
    }

    static let unreachable = Taint(key: "node.kubernetes.io/unreachable", effect: "NoExecute")
    static let dedicated = Taint(key: "dedicated", value: "db", effect: "NoExecute")

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var tolerations: [Toleration]
        var taints: [Taint]
        var expected: TaintEviction.Decision
        var testDescription: String { name }
    }

    static let cases: [Case] = {
        let t = NodeHealthTests()
        return [
            Case(name: "no NoExecute taint", tolerations: [], taints: [Taint(key: "x", effect: "NoSchedule")], expected: .stay),
            Case(name: "untolerated", tolerations: [], taints: [unreachable], expected: .evictNow),
            Case(
                name: "tolerated for 300 s", tolerations: [t.toleration("node.kubernetes.io/unreachable", seconds: 300)], taints: [unreachable],
                expected: .evictAfter(seconds: 300)),
            Case(
                name: "tolerated forever", tolerations: [t.toleration("node.kubernetes.io/unreachable")], taints: [unreachable],
                expected: .tolerateForever),
            Case(
                name: "one of two untolerated", tolerations: [t.toleration("node.kubernetes.io/unreachable")], taints: [unreachable, dedicated],
                expected: .evictNow),
            Case(
                name: "shortest of two",
                tolerations: [
                    t.toleration("node.kubernetes.io/unreachable", seconds: 300), t.toleration("dedicated", "Equal", value: "db", seconds: 30),
                ],
                taints: [unreachable, dedicated], expected: .evictAfter(seconds: 30)),
            Case(
                name: "Equal with another value", tolerations: [t.toleration("dedicated", "Equal", value: "web")], taints: [dedicated],
                expected: .evictNow),
            Case(
                name: "empty key Exists tolerates all", tolerations: [t.toleration(nil, effect: nil)], taints: [unreachable, dedicated],
                expected: .tolerateForever),
            Case(
                name: "NoSchedule toleration does not count", tolerations: [t.toleration("node.kubernetes.io/unreachable", effect: "NoSchedule")],
                taints: [unreachable], expected: .evictNow),
            Case(
                name: "negative seconds: at once", tolerations: [t.toleration("node.kubernetes.io/unreachable", seconds: -5)], taints: [unreachable],
                expected: .evictAfter(seconds: 0)),
        ]
    }()

    @Test(arguments: cases)
    func evictionDecision(_ example: Case) {
        #expect(TaintEviction.decide(tolerations: example.tolerations, taints: example.taints) == example.expected)
    }

    func node(ready: String?, unschedulable: Bool = false, taints: [Taint] = []) -> Node {
        var node = Node(json: ["apiVersion": "v1", "kind": "Node", "metadata": ["name": "n1", "creationTimestamp": "2026-01-01T00:00:00Z"]])
        if let ready {
            node.status.conditions = [Condition(json: ["type": "Ready", "status": .string(ready), "lastHeartbeatTime": "2026-01-01T00:00:10Z"])]
        }
        node.spec.unschedulable = unschedulable
        node.spec.taints = taints
        return node
    }

    @Test func taintsFollowTheReadyCondition() {
        func ids(_ node: Node) -> Set<String> { Set(NodeTaints.desired(for: node).map { "\($0.key):\($0.effect)" }) }
        #expect(ids(node(ready: "True")).isEmpty)
        #expect(ids(node(ready: "False")) == ["node.kubernetes.io/not-ready:NoSchedule", "node.kubernetes.io/not-ready:NoExecute"])
        #expect(ids(node(ready: "Unknown")) == ["node.kubernetes.io/unreachable:NoSchedule", "node.kubernetes.io/unreachable:NoExecute"])
        #expect(ids(node(ready: nil)).isEmpty)
        #expect(ids(node(ready: "True", unschedulable: true)) == ["node.kubernetes.io/unschedulable:NoSchedule"])
    }

    @Test func reconcilingTaintsKeepsOthersAndStampsNewOnes() throws {
        let user = Taint(key: "dedicated", value: "db", effect: "NoSchedule")
        let stale = Taint(key: "node.kubernetes.io/not-ready", effect: "NoSchedule")
        let taints = try #require(NodeTaints.reconciled(node(ready: "Unknown", taints: [user, stale]), now: "2026-01-01T00:01:00Z"))
        #expect(
            taints.map { "\($0.key):\($0.effect)" } == [
                "dedicated:NoSchedule", "node.kubernetes.io/unreachable:NoExecute", "node.kubernetes.io/unreachable:NoSchedule",
            ])
        #expect(taints.filter { $0.key.hasSuffix("unreachable") }.allSatisfy { $0.timeAdded == "2026-01-01T00:01:00Z" })
        #expect(taints.first { $0.key == "dedicated" }?.timeAdded == nil)
        // Already right: nothing to write.
        #expect(NodeTaints.reconciled(node(ready: "Unknown", taints: taints), now: "2026-01-01T00:02:00Z") == nil)
    }

    @Test func staleConditionsTurnUnknownAndMissingOnesAreAdded() throws {
        let conditions = try #require(NodeHealth.staleConditions(of: node(ready: "True"), now: "2026-01-01T00:01:00Z"))
        #expect(conditions.map(\.type) == ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"])
        #expect(conditions.allSatisfy { $0.status == "Unknown" })
        #expect(conditions[0].reason == "NodeStatusUnknown")
        #expect(conditions[0].lastHeartbeatTime == "2026-01-01T00:00:10Z")
        #expect(conditions[1].reason == "NodeStatusNeverUpdated")
        var unknown = node(ready: "True")
        unknown.status.conditions = conditions
        #expect(NodeHealth.staleConditions(of: unknown, now: "2026-01-01T00:02:00Z") == nil)
    }

    @Test func probesCountFromWhenAChangeWasSeen() {
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        let n = node(ready: "True")
        var lease = Lease(json: ["metadata": ["name": "n1"]])
        lease.spec.renewTime = "2026-01-01T00:00:20.000000Z"
        let first = NodeProbe.observe(n, lease: lease, previous: nil, now: t0)
        #expect(first.probeTime == t0)
        // Nothing new: the probe stays where it was.
        #expect(NodeProbe.observe(n, lease: lease, previous: first, now: t0 + 100).probeTime == t0)
        // A renewed lease counts as alive now, whatever time it names.
        lease.spec.renewTime = "2020-01-01T00:00:00.000000Z"
        #expect(NodeProbe.observe(n, lease: lease, previous: first, now: t0 + 100).probeTime == t0 + 100)
    }
}
