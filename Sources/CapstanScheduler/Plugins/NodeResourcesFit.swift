/// Filter: the node has room for the pod's requests (CPU, memory, ephemeral
/// storage, extended resources) and for one more pod. Score: how full the
/// node would be, by the configured strategy.
struct NodeResourcesFit: FilterPlugin, ScorePlugin {
    let name = "NodeResourcesFit"
    var strategy: SchedulerConfiguration.ScoringStrategy = .leastAllocated

    func filter(_ state: CycleState, _ node: NodeInfo) -> [String]? {
        var reasons: [String]?
        if node.pods.count + 1 > node.allowedPodCount { reasons = ["Too many pods"] }
        let request = state.pod.requests
        let free = node.allocatable
        let used = node.requested
        if request.milliCPU > 0, request.milliCPU > free.milliCPU - used.milliCPU { reasons = (reasons ?? []) + ["Insufficient cpu"] }
        if request.memory > 0, request.memory > free.memory - used.memory { reasons = (reasons ?? []) + ["Insufficient memory"] }
        if request.ephemeralStorage > 0, request.ephemeralStorage > free.ephemeralStorage - used.ephemeralStorage {
            reasons = (reasons ?? []) + ["Insufficient ephemeral-storage"]
        }
        if !request.scalars.isEmpty {
            for (resource, amount) in request.scalars.sorted(by: { $0.key < $1.key }) where amount > 0 {
                if amount > (free.scalars[resource] ?? 0) - (used.scalars[resource] ?? 0) { reasons = (reasons ?? []) + ["Insufficient \(resource)"] }
            }
        }
        return reasons
    }

    /// CPU and memory weigh the same, as the default profile's `resources` list.
    func score(_ state: CycleState, _ node: NodeInfo, _ snapshot: ClusterSnapshot) -> Int64 {
        let cpu = Self.resourceScore(
            requested: node.nonZeroRequested.milliCPU + state.pod.nonZeroRequests.milliCPU, capacity: node.allocatable.milliCPU, strategy)
        let memory = Self.resourceScore(
            requested: node.nonZeroRequested.memory + state.pod.nonZeroRequests.memory, capacity: node.allocatable.memory, strategy)
        return (cpu + memory) / 2
    }

    static func resourceScore(requested: Int64, capacity: Int64, _ strategy: SchedulerConfiguration.ScoringStrategy) -> Int64 {
        guard capacity > 0 else { return 0 }
        switch strategy {
        case .leastAllocated:
            guard requested <= capacity else { return 0 }
            return (capacity - requested) * maxNodeScore / capacity
        case .mostAllocated:
            guard requested <= capacity else { return maxNodeScore }
            return requested * maxNodeScore / capacity
        }
    }
}

/// Score: prefers nodes whose CPU and memory would be used in equal shares,
/// so neither runs out while the other sits idle.
struct BalancedAllocation: ScorePlugin {
    let name = "NodeResourcesBalancedAllocation"

    func score(_ state: CycleState, _ node: NodeInfo, _ snapshot: ClusterSnapshot) -> Int64 {
        guard node.allocatable.milliCPU > 0, node.allocatable.memory > 0 else { return 0 }
        let cpu = min(1, Double(node.nonZeroRequested.milliCPU + state.pod.nonZeroRequests.milliCPU) / Double(node.allocatable.milliCPU))
        let memory = min(1, Double(node.nonZeroRequested.memory + state.pod.nonZeroRequests.memory) / Double(node.allocatable.memory))
        // The standard deviation of two fractions is half their distance.
        let deviation = abs(cpu - memory) / 2
        return Int64((1 - deviation) * Double(maxNodeScore))
    }
}
