package import CapstanCore
import OrderedCollections

/// What Kubernetes' `DefaultTolerationSeconds` admission plugin adds to a new pod.
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
}
