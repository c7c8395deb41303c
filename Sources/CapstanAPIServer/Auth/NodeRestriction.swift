import CapstanCore
import OrderedCollections

/// Kubernetes' NodeRestriction admission for a node's writes to its own Node
/// object: what a node agent may set about itself. The authorizer already
/// limits a node to its own Node; this limits *which fields* it may change,
/// so a compromised node cannot lift the taints that keep workloads off it,
/// mark itself schedulable again after a drain, or claim labels the cluster
/// uses for placement and isolation.
///
/// - Labels in the `kubernetes.io` and `k8s.io` namespaces (and their
///   subdomains) are reserved, except the ones the kubelet sets itself
///   (``kubeletLabels``) and the `kubelet.kubernetes.io` and
///   `node.kubernetes.io` namespaces; `node-restriction.kubernetes.io/` is
///   never the node's. A node may not add, change or remove a reserved label,
///   on create or later. Labels outside those namespaces are the node's own.
/// - Taints and `spec.unschedulable` are the cluster's once the Node exists:
///   a node registers with whatever it asks for, and never changes them after.
enum NodeRestriction {
    /// Labels the kubelet sets on its own Node (`k8s.io/kubelet/apis`' `KubeletLabels`).
    static let kubeletLabels: Set<String> = [
        "kubernetes.io/hostname", "kubernetes.io/os", "kubernetes.io/arch",
        "beta.kubernetes.io/os", "beta.kubernetes.io/arch", "beta.kubernetes.io/instance-type",
        "node.kubernetes.io/instance-type",
        "topology.kubernetes.io/zone", "topology.kubernetes.io/region",
        "failure-domain.beta.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/region",
    ]

    /// Label namespaces the kubelet may use freely (and their subdomains).
    static let kubeletLabelNamespaces = ["kubelet.kubernetes.io", "node.kubernetes.io"]

    /// Why `node` may not write `new` over `old` (nil `old`: a create), or nil
    /// when NodeRestriction allows it.
    static func violation(node: String, old: JSONValue?, new: JSONValue) -> String? {
        let oldLabels = labels(old)
        let newLabels = labels(new)
        let changed = Set(oldLabels.keys).union(newLabels.keys).filter { oldLabels[$0] != newLabels[$0] }
        let forbidden = changed.filter(isForbidden).sorted()
        if !forbidden.isEmpty {
            let verb = old == nil ? "set" : "modify"
            return "node \"\(node)\" is not allowed to \(verb) labels: \(forbidden.joined(separator: ", "))"
        }
        guard let old else { return nil }
        if taints(old) != taints(new) { return "node \"\(node)\" is not allowed to modify taints" }
        if unschedulable(old) != unschedulable(new) { return "node \"\(node)\" is not allowed to modify spec.unschedulable" }
        return nil
    }

    /// Whether a label key is reserved for the cluster, not the node.
    static func isForbidden(_ key: String) -> Bool {
        guard let slash = key.firstIndex(of: "/") else { return false }
        let namespace = key[..<slash].lowercased()
        if namespace == "node-restriction.kubernetes.io" || namespace.hasSuffix(".node-restriction.kubernetes.io") { return true }
        // The name part is case-sensitive: `kubernetes.io/Hostname` is not the kubelet's label.
        if kubeletLabels.contains(key) { return false }
        if kubeletLabelNamespaces.contains(where: { namespace == $0 || namespace.hasSuffix("." + $0) }) { return false }
        return ["kubernetes.io", "k8s.io"].contains { namespace == $0 || namespace.hasSuffix("." + $0) }
    }

    private static func labels(_ node: JSONValue?) -> [String: String] {
        guard let labels = node?[path: ["metadata", "labels"]]?.objectValue else { return [:] }
        // Only string values are labels, as every reader sees them: a null leaves
        // the label out, so nulling a reserved label counts as removing it.
        var result: [String: String] = [:]
        for (key, value) in labels {
            if let text = value.stringValue { result[key] = text }
        }
        return result
    }

    private static func taints(_ node: JSONValue) -> JSONValue {
        let taints = node[path: ["spec", "taints"]] ?? .array([])
        return taints == .null ? .array([]) : taints
    }

    private static func unschedulable(_ node: JSONValue) -> Bool {
        node[path: ["spec", "unschedulable"]]?.boolValue ?? false
    }
}
