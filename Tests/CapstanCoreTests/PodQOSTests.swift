import CapstanCore
import OrderedCollections
import Testing

/// Kubernetes' QoS rules (`pkg/apis/core/helper/qos`), one case each.
@Suite struct PodQOSTests {
    private func spec(_ containers: [JSONValue], initContainers: [JSONValue] = []) -> PodSpec {
        PodSpec(json: ["containers": .array(containers), "initContainers": .array(initContainers)])
    }

    private func container(requests: JSONValue = [:], limits: JSONValue = [:]) -> JSONValue {
        ["name": "c", "resources": ["requests": requests, "limits": limits]]
    }

    @Test func classesFollowKubernetesRules() {
        let both: JSONValue = ["cpu": "1", "memory": "1Gi"]
        #expect(PodQOSClass(of: spec([container()])) == .bestEffort)
        #expect(PodQOSClass(of: spec([container(requests: ["cpu": "0"])])) == .bestEffort)
        #expect(PodQOSClass(of: spec([container(requests: both, limits: both)])) == .guaranteed)
        // Quantities compare by value, not spelling.
        #expect(PodQOSClass(of: spec([container(requests: ["cpu": "1000m", "memory": "1024Mi"], limits: both)])) == .guaranteed)
        #expect(PodQOSClass(of: spec([container(requests: ["cpu": "1", "memory": "1Gi"], limits: ["cpu": "2", "memory": "1Gi"])])) == .burstable)
        #expect(PodQOSClass(of: spec([container(requests: both, limits: both), container()])) == .burstable)
        #expect(
            PodQOSClass(of: spec([container(requests: both, limits: both)], initContainers: [container(requests: ["memory": "1Mi"])])) == .burstable)
        // Without defaulting, limits alone leave requests empty: not Guaranteed.
        #expect(PodQOSClass(of: spec([container(limits: both)])) == .burstable)
        var defaulted = spec([container(limits: both)], initContainers: [container(requests: ["cpu": "1"], limits: both)])
        defaulted.defaultRequestsFromLimits()
        #expect(defaulted.initContainers[0].resources.requests == ["cpu": Quantity(1), "memory": try! Quantity(parsing: "1Gi")])
        #expect(PodQOSClass(of: defaulted) == .guaranteed)
    }
}
