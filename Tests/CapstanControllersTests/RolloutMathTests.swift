import CapstanCore
import OrderedCollections
import Testing

@testable import CapstanControllers

@Suite struct RolloutMathTests {
    func strategy(surge: IntOrString, unavailable: IntOrString) -> DeploymentStrategy {
        var strategy = DeploymentStrategy()
        var rolling = RollingUpdateParameters()
        rolling.maxSurge = surge
        rolling.maxUnavailable = unavailable
        strategy.rollingUpdate = rolling
        return strategy
    }

    @Test func surgeRoundsUpAndUnavailableRoundsDown() {
        #expect(RolloutMath.fenceposts(DeploymentStrategy(), replicas: 10) == (3, 2))
        #expect(RolloutMath.fenceposts(strategy(surge: .string("10%"), unavailable: .string("10%")), replicas: 5) == (1, 0))
        #expect(RolloutMath.fenceposts(strategy(surge: .int(0), unavailable: .int(0)), replicas: 3) == (0, 1))
        #expect(RolloutMath.fenceposts(strategy(surge: .int(1), unavailable: .int(0)), replicas: 3) == (1, 0))
    }

    @Test func newReplicaSetGrowsWithinSurge() {
        #expect(RolloutMath.newReplicaSetSize(desired: 3, surge: 1, newReplicas: 0, totalReplicas: 3) == 1)
        #expect(RolloutMath.newReplicaSetSize(desired: 3, surge: 1, newReplicas: 1, totalReplicas: 4) == 1)
        #expect(RolloutMath.newReplicaSetSize(desired: 10, surge: 3, newReplicas: 0, totalReplicas: 10) == 3)
        #expect(RolloutMath.maxScaleDown(desired: 3, unavailable: 0, totalReplicas: 4, newReplicas: 1, newAvailable: 0) == 0)
        #expect(RolloutMath.maxScaleDown(desired: 3, unavailable: 0, totalReplicas: 4, newReplicas: 1, newAvailable: 1) == 1)
    }

    @Test func templateHashIsStableAndIgnoresFieldOrderAndItsOwnLabel() throws {
        let a = PodTemplateSpec(json: ["metadata": ["labels": ["app": "web"]], "spec": ["containers": [["name": "c", "image": "nginx"]]]])
        let b = PodTemplateSpec(json: ["spec": ["containers": [["image": "nginx", "name": "c"]]], "metadata": ["labels": ["app": "web"]]])
        var labelled = a
        var meta = labelled.metadata
        meta.labels["pod-template-hash"] = "xyz"
        labelled.metadata = meta
        let c = PodTemplateSpec(json: ["metadata": ["labels": ["app": "web"]], "spec": ["containers": [["name": "c", "image": "nginx:2"]]]])
        let hash = PodTemplateHash.of(a, collisionCount: nil)
        #expect(hash == PodTemplateHash.of(b, collisionCount: nil))
        #expect(hash == PodTemplateHash.of(labelled, collisionCount: nil))
        #expect(hash != PodTemplateHash.of(c, collisionCount: nil))
        #expect(hash != PodTemplateHash.of(a, collisionCount: 1))
        #expect(PodTemplateHash.equalIgnoringHash(a, labelled) && PodTemplateHash.equalIgnoringHash(a, b))
        #expect(hash.allSatisfy { PodTemplateHash.alphabet.contains($0) } && (1...10).contains(hash.count))
    }

    /// A Deployment stored before the API server defaulted templates still
    /// matches the defaulted ReplicaSet made from it, so it does not roll
    /// out again; a real difference still counts.
    @Test func templatesStoredWithoutDefaultsEqualTheirDefaultedCopies() {
        let stored = PodTemplateSpec(json: ["metadata": ["labels": ["app": "web"]], "spec": ["containers": [["name": "c", "image": "nginx"]]]])
        var defaulted = stored
        KubernetesDefaults.template(&defaulted.json)
        #expect(defaulted.json != stored.json)
        #expect(PodTemplateHash.equalIgnoringHash(stored, defaulted))
        var otherPolicy = defaulted
        otherPolicy.json["spec"]?["dnsPolicy"] = "Default"
        #expect(!PodTemplateHash.equalIgnoringHash(stored, otherPolicy))
    }

    @Test func deletesUnscheduledNotReadyAndNewestPodsFirst() {
        func pod(_ name: String, node: String? = nil, phase: String = "Running", ready: Bool = true, created: String = "2026-01-01T00:00:00Z") -> Pod
        {
            var pod = Pod(name: name)
            var meta = pod.metadata
            meta.creationTimestamp = created
            pod.metadata = meta
            var spec = PodSpec()
            spec.nodeName = node
            pod.spec = spec
            var status = PodStatus()
            status.phase = phase
            status.conditions = [Condition(type: "Ready", status: ready, time: "2026-01-01T00:00:00Z")]
            pod.status = status
            return pod
        }
        let pods = [
            pod("old-ready", node: "n"), pod("new-ready", node: "n", created: "2026-01-02T00:00:00Z"),
            pod("not-ready", node: "n", ready: false), pod("pending", node: "n", phase: "Pending", ready: false),
            pod("unscheduled", phase: "Pending", ready: false),
        ]
        #expect(pods.sorted(by: PodDeletionOrder.before).map(\.metadata.name) == ["unscheduled", "pending", "not-ready", "new-ready", "old-ready"])
    }
}
