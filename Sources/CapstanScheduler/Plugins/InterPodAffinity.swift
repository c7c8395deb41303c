import CapstanCore
import Foundation

/// Filter: required pod affinity and anti-affinity, both the incoming pod's
/// (checked in Kubernetes' order: affinity, anti-affinity, then existing pods')
/// and the existing pods' (a pod already running that refuses company keeps
/// the newcomer away from its topology domain).
///
/// Pre-filter counts, per term, the matching pods in each topology domain
/// through the snapshot's label index; the per-node check is then lookups.
struct InterPodAffinity: FilterPlugin {
    let name = "InterPodAffinity"

    func preFilter(_ state: inout CycleState, _ snapshot: ClusterSnapshot) -> String? {
        let pod = state.pod
        for term in snapshot.antiAffinityTermCandidates(labels: pod.labels) where term.matches(pod) {
            guard let slots = snapshot.antiAffinityGroups[term] else { continue }
            var values = state.forbiddenByExistingPods[term.topologyKey] ?? []
            for slot in slots.keys {
                if let value = snapshot.nodes[slot].labels[term.topologyKey] { values.insert(value) }
            }
            state.forbiddenByExistingPods[term.topologyKey] = values
        }
        state.antiAffinityCounts = pod.requiredAntiAffinity.map { term in
            snapshot.countMatchingPods(selector: term.selector, topologyKey: term.topologyKey) { term.matches($0) && $0.key != pod.key }
        }
        state.affinityCounts = pod.requiredAffinity.map { term in
            snapshot.countMatchingPods(selector: term.selector, topologyKey: term.topologyKey) { term.matches($0) && $0.key != pod.key }
        }
        if !pod.requiredAffinity.isEmpty, state.affinityCounts.allSatisfy(\.isEmpty) {
            state.affinitySatisfiedBySelf = pod.requiredAffinity.allSatisfy { $0.matches(pod) }
        }
        return nil
    }

    func filter(_ state: CycleState, _ node: NodeInfo) -> [String]? {
        for (index, term) in state.pod.requiredAffinity.enumerated() {
            guard let value = node.labels[term.topologyKey] else { return ["node(s) didn't match pod affinity rules"] }
            if state.affinitySatisfiedBySelf { continue }
            if (state.affinityCounts[index][value] ?? 0) == 0 { return ["node(s) didn't match pod affinity rules"] }
        }
        for (index, term) in state.pod.requiredAntiAffinity.enumerated() {
            if let value = node.labels[term.topologyKey], (state.antiAffinityCounts[index][value] ?? 0) > 0 {
                return ["node(s) didn't match pod anti-affinity rules"]
            }
        }
        for (key, values) in state.forbiddenByExistingPods {
            if let value = node.labels[key], values.contains(value) { return ["node(s) didn't satisfy existing pods anti-affinity rules"] }
        }
        return nil
    }
}

/// Filter (`whenUnsatisfiable: DoNotSchedule`) and score (`ScheduleAnyway`):
/// keeps matching pods spread across topology domains within `maxSkew`.
struct PodTopologySpread: FilterPlugin, ScorePlugin {
    let name = "PodTopologySpread"

    func preFilter(_ state: inout CycleState, _ snapshot: ClusterSnapshot) -> String? {
        let pod = state.pod
        guard !pod.spreadConstraints.isEmpty else { return nil }
        state.spreadCounts = pod.spreadConstraints.map { constraint in
            snapshot.countMatchingPods(selector: constraint.selector, topologyKey: constraint.topologyKey) {
                $0.namespace == constraint.namespace && constraint.selector.matches($0.labels) && $0.key != pod.key
            }
        }
        state.spreadSelfMatch = pod.spreadConstraints.map { $0.selector.matches(pod.labels) }
        // Eligible domains: those of nodes the pod could go to by node selector / affinity.
        let affinity = NodeAffinity()
        var domains = Array(repeating: Set<String>(), count: pod.spreadConstraints.count)
        for node in snapshot.nodes where affinity.filter(state, node) == nil {
            for (index, constraint) in pod.spreadConstraints.enumerated() {
                if let value = node.labels[constraint.topologyKey] { domains[index].insert(value) }
            }
        }
        let counts = state.spreadCounts
        state.spreadMinimum = pod.spreadConstraints.indices.map { index in
            domains[index].map { counts[index][$0] ?? 0 }.min() ?? 0
        }
        state.spreadWeights = domains.map { log(Double($0.count + 2)) }
        return nil
    }

    func filter(_ state: CycleState, _ node: NodeInfo) -> [String]? {
        for (index, constraint) in state.pod.spreadConstraints.enumerated() where constraint.hard {
            guard let value = node.labels[constraint.topologyKey] else {
                return ["node(s) didn't match pod topology spread constraints (missing required label)"]
            }
            let count = (state.spreadCounts[index][value] ?? 0) + (state.spreadSelfMatch[index] ? 1 : 0)
            if count - state.spreadMinimum[index] > constraint.maxSkew {
                return ["node(s) didn't match pod topology spread constraints"]
            }
        }
        return nil
    }

    /// Raw score: matching pods already in the node's domains (fewer is better), weighted per constraint.
    func score(_ state: CycleState, _ node: NodeInfo, _ snapshot: ClusterSnapshot) -> Int64 {
        var total = 0.0
        for (index, constraint) in state.pod.spreadConstraints.enumerated() where !constraint.hard {
            guard let value = node.labels[constraint.topologyKey] else { continue }
            total += Double(state.spreadCounts[index][value] ?? 0) * state.spreadWeights[index]
        }
        return Int64(total.rounded())
    }

    /// Kubernetes' normalization: `100 · (max + min − s) / max`, so the least crowded domain scores highest.
    func normalize(_ scores: inout [Int64]) {
        guard let highest = scores.max(), let lowest = scores.min() else { return }
        guard highest > 0 else {
            for index in scores.indices { scores[index] = maxNodeScore }
            return
        }
        for index in scores.indices { scores[index] = maxNodeScore * (highest + lowest - scores[index]) / highest }
    }
}
