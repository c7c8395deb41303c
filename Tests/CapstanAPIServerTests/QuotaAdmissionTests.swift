import CapstanAPI
import CapstanCore
import OrderedCollections
import Testing

@testable import CapstanAPIServer

/// `LimitRanger` and `QuotaUsage` alone: Kubernetes' messages and counting rules.
@Suite struct QuotaAdmissionTests {
    private func pod(requests: JSONValue = [:], limits: JSONValue = [:], phase: String? = nil) -> JSONValue {
        var pod: JSONObject = [
            "metadata": ["name": "p"], "spec": ["containers": [["name": "c", "resources": ["requests": requests, "limits": limits]]]],
        ]
        if let phase { pod["status"] = ["phase": .string(phase)] }
        return .object(pod)
    }

    @Test func limitRangeBoundsReadAsKubernetesWritesThem() {
        let items: [JSONValue] = [["type": "Container", "min": ["memory": "16Mi"], "max": ["cpu": "1"], "maxLimitRequestRatio": ["cpu": "2"]]]
        let problems = LimitRanger.violations(items, pod: Pod(jsonValue: pod(requests: ["cpu": "100m"], limits: ["cpu": "500m"]))!)
        #expect(
            problems == [
                "minimum memory usage per Container is 16Mi.  No request is specified",
                "cpu max limit to request ratio per Container is 2, but provided ratio is 5.000000",
            ])
        #expect(
            LimitRanger.violations(items, pod: Pod(jsonValue: pod(requests: ["cpu": "1", "memory": "16Mi"], limits: ["cpu": "2"]))!) == [
                "maximum cpu usage per Container is 1, but limit is 2"
            ])
    }

    @Test func limitRangeDefaultsFillOnlyWhatIsUnset() throws {
        let items: [JSONValue] = [["type": "Container", "default": ["cpu": "200m", "memory": "64Mi"], "defaultRequest": ["cpu": "100m"]]]
        var object = Unstructured(jsonValue: pod(limits: ["cpu": "1"]))!
        LimitRanger.applyDefaults(items, to: &object)
        let resources = try #require(object.json["spec"]?["containers"]?[0]?["resources"])
        // The request defaulted from the pod's own limit comes before the LimitRange's defaultRequest.
        #expect(resources["limits"] == ["cpu": "1", "memory": "64Mi"] && resources["requests"] == ["cpu": "1", "memory": "64Mi"])
    }

    @Test func podsChargeCountsAndComputeUnlessTheyEnded() {
        let hard = ["pods", "requests.cpu", "limits.memory", "count/pods", "configmaps"]
        let charge = QuotaUsage.charge(of: pod(requests: ["cpu": "250m"], limits: ["memory": "1Gi"]), kind: BuiltinKinds.pod, hard: hard)
        #expect(
            charge == [
                "pods": Quantity(1), "count/pods": Quantity(1), "requests.cpu": Quantity(milli: 250), "limits.memory": try! Quantity(parsing: "1Gi"),
            ])
        for phase in ["Succeeded", "Failed"] {
            #expect(QuotaUsage.charge(of: pod(phase: phase), kind: BuiltinKinds.pod, hard: hard).isEmpty)
        }
        #expect(QuotaUsage.charge(of: ["metadata": ["name": "c"]], kind: BuiltinKinds.configMap, hard: hard) == ["configmaps": Quantity(1)])
        #expect(QuotaUsage.kind(named: "deployments.apps") == BuiltinKinds.deployment && QuotaUsage.kind(named: "nodes") == nil)
        #expect(QuotaUsage.unspecified(Pod(jsonValue: pod())!, hard: hard) == ["limits.memory", "requests.cpu"])
    }
}
