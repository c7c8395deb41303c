package import CapstanCore
import OrderedCollections

/// What Kubernetes adds to a new pod: its `DefaultTolerationSeconds` admission
/// plugin's tolerations, the defaulting of requests from limits, and the
/// initial status (phase `Pending`, the QoS class).
package enum PodDefaults {
    /// Kubernetes' default: five minutes on a node that stopped being ready before eviction.
    package static let defaultTolerationSeconds: Int64 = 300
    package static let notReadyTaint = "node.kubernetes.io/not-ready"
    package static let unreachableTaint = "node.kubernetes.io/unreachable"

    /// Adds `node.kubernetes.io/not-ready` and `node.kubernetes.io/unreachable`
    /// NoExecute tolerations with `tolerationSeconds: seconds` unless the pod
    /// already tolerates that taint's NoExecute effect (a toleration with that
    /// key or no key, and the NoExecute effect or none). So a pod on a node
    /// that stops responding is evicted after `seconds`, not at once, and not never.
    package static func addDefaultTolerations(to pod: inout Unstructured, seconds: Int64) {
        // A malformed spec is left alone for validation to report as it is.
        guard case .object(var spec)? = pod.json["spec"] else { return }
        if let existing = spec["tolerations"], existing.arrayValue == nil { return }
        var tolerations = spec["tolerations"]?.arrayValue ?? []
        for key in [notReadyTaint, unreachableTaint] where !tolerates(tolerations, key: key) {
            tolerations.append(["key": .string(key), "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": .int(seconds)])
        }
        spec["tolerations"] = .array(tolerations)
        pod.json["spec"] = .object(spec)
    }

    private static func tolerates(_ tolerations: [JSONValue], key: String) -> Bool {
        tolerations.contains { toleration in
            let tolerationKey = toleration["key"]?.stringValue ?? ""
            let effect = toleration["effect"]?.stringValue ?? ""
            return (tolerationKey == key || tolerationKey.isEmpty) && (effect == "NoExecute" || effect.isEmpty)
        }
    }

    /// Requests defaulted from limits (``PodSpec/defaultRequestsFromLimits()``),
    /// then the status a new pod starts with: phase `Pending` unless the body
    /// gave one, and the QoS class computed from the spec (``PodQOSClass``),
    /// whatever the body said, since it is the server's to decide.
    package static func setInitialStatus(of pod: inout Unstructured) {
        // A malformed spec or status is left alone for validation to report as it is.
        guard case .object(let specJSON)? = pod.json["spec"] else { return }
        var spec = PodSpec(json: specJSON)
        spec.defaultRequestsFromLimits()
        pod.json["spec"] = .object(spec.json)
        guard case .object(var status)? = pod.json["status"] ?? .object([:]) else { return }
        if status["phase"] == nil { status["phase"] = "Pending" }
        status["qosClass"] = .string(PodQOSClass(of: spec).rawValue)
        pod.json["status"] = .object(status)
    }
}
