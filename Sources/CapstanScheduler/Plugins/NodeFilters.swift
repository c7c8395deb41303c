/// Filter: a cordoned node (`spec.unschedulable`) takes only pods that
/// tolerate `node.kubernetes.io/unschedulable:NoSchedule`.
struct NodeUnschedulable: FilterPlugin {
    let name = "NodeUnschedulable"
    static let taint = TaintInfo(key: "node.kubernetes.io/unschedulable", effect: "NoSchedule")

    func filter(_ state: CycleState, _ node: NodeInfo) -> [String]? {
        guard node.unschedulable else { return nil }
        if state.pod.tolerations.contains(where: { $0.tolerates(Self.taint) }) { return nil }
        return ["node(s) were unschedulable"]
    }
}

/// Filter: a pod that names its node (`spec.nodeName`) goes only there.
struct NodeName: FilterPlugin {
    let name = "NodeName"

    func filter(_ state: CycleState, _ node: NodeInfo) -> [String]? {
        state.pod.nodeName.isEmpty || state.pod.nodeName == node.name ? nil : ["node(s) didn't match the requested node name"]
    }
}

/// Filter: the node's `Ready` condition is `True`.
///
/// Kubernetes expresses readiness as the `node.kubernetes.io/not-ready` (or
/// `unreachable`) taint that the node lifecycle controller adds; checking the
/// condition directly gives the same answer before that taint lands, and the
/// same message, and pods that tolerate the taint (DaemonSets) still fit.
struct NodeReadiness: FilterPlugin {
    let name = "NodeReadiness"

    func filter(_ state: CycleState, _ node: NodeInfo) -> [String]? {
        guard node.readiness != "True" else { return nil }
        let key = node.readiness == "False" ? "node.kubernetes.io/not-ready" : "node.kubernetes.io/unreachable"
        let taint = TaintInfo(key: key, effect: "NoSchedule")
        if state.pod.tolerations.contains(where: { $0.tolerates(taint) }) { return nil }
        return ["node(s) had untolerated taint {\(key): }"]
    }
}

/// Filter: every `NoSchedule` and `NoExecute` taint is tolerated. Score:
/// fewer untolerated `PreferNoSchedule` taints is better.
struct TaintToleration: FilterPlugin, ScorePlugin {
    let name = "TaintToleration"

    func filter(_ state: CycleState, _ node: NodeInfo) -> [String]? {
        for taint in node.taints where taint.effect == "NoSchedule" || taint.effect == "NoExecute" {
            if !state.pod.tolerations.contains(where: { $0.tolerates(taint) }) {
                return ["node(s) had untolerated taint {\(taint.key): \(taint.value)}"]
            }
        }
        return nil
    }

    func score(_ state: CycleState, _ node: NodeInfo, _ snapshot: ClusterSnapshot) -> Int64 {
        var count: Int64 = 0
        for taint in node.taints where taint.effect == "PreferNoSchedule" {
            // Only tolerations for PreferNoSchedule (or any effect) count, as in Kubernetes.
            if !state.pod.tolerations.contains(where: { ($0.effect.isEmpty || $0.effect == "PreferNoSchedule") && $0.tolerates(taint) }) {
                count += 1
            }
        }
        return count
    }

    func normalize(_ scores: inout [Int64]) { normalizeToMax(&scores, reverse: true) }
}

/// Filter: `spec.nodeSelector` and required node affinity both hold. Score:
/// the weights of the preferred node affinity terms the node matches.
struct NodeAffinity: FilterPlugin, ScorePlugin {
    let name = "NodeAffinity"

    func filter(_ state: CycleState, _ node: NodeInfo) -> [String]? {
        for (key, value) in state.pod.nodeSelector where node.labels[key] != value {
            return ["node(s) didn't match Pod's node affinity/selector"]
        }
        if let required = state.pod.requiredNodeAffinity, !required.matches(name: node.name, labels: node.labels) {
            return ["node(s) didn't match Pod's node affinity/selector"]
        }
        return nil
    }

    func score(_ state: CycleState, _ node: NodeInfo, _ snapshot: ClusterSnapshot) -> Int64 {
        var total: Int64 = 0
        for preference in state.pod.preferredNodeAffinity where preference.term.matches(name: node.name, labels: node.labels) {
            total += preference.weight
        }
        return total
    }

    func normalize(_ scores: inout [Int64]) { normalizeToMax(&scores, reverse: false) }
}

/// Filter: the host ports the pod asks for are free on the node.
struct NodePorts: FilterPlugin {
    let name = "NodePorts"

    func filter(_ state: CycleState, _ node: NodeInfo) -> [String]? {
        guard !state.pod.hostPorts.isEmpty, !node.usedPorts.isEmpty else { return nil }
        for wanted in state.pod.hostPorts where node.usedPorts.contains(where: { $0.conflicts(with: wanted) }) {
            return ["node(s) didn't have free ports for the requested pod ports"]
        }
        return nil
    }
}

/// Score: prefers nodes that already have the pod's images, weighted by how
/// rare the image is in the cluster (so one popular node is not favoured
/// forever) — kube-scheduler's ImageLocality.
struct ImageLocality: ScorePlugin {
    let name = "ImageLocality"
    static let minThreshold: Int64 = 23 * 1024 * 1024
    static let maxContainerThreshold: Int64 = 1000 * 1024 * 1024

    func score(_ state: CycleState, _ node: NodeInfo, _ snapshot: ClusterSnapshot) -> Int64 {
        guard !node.images.isEmpty, !state.pod.images.isEmpty else { return 0 }
        let totalNodes = max(1, snapshot.nodeCount)
        var sum: Int64 = 0
        for image in state.pod.images {
            let normalized = ImageName.normalized(image)
            guard let size = node.images[normalized] else { continue }
            let spread = Double(snapshot.imageNodeCount[normalized] ?? 1) / Double(totalNodes)
            sum += Int64(Double(size) * spread)
        }
        let maxThreshold = Self.maxContainerThreshold * Int64(state.pod.images.count)
        let clamped = min(max(sum, Self.minThreshold), maxThreshold)
        return maxNodeScore * (clamped - Self.minThreshold) / (maxThreshold - Self.minThreshold)
    }
}
