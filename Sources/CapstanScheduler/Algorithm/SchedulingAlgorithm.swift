/// Where a pod goes, and how much of the cluster was looked at to decide.
public struct ScheduleResult: Sendable, Hashable {
    public var nodeName: String
    /// Nodes run through the filters (fewer than all when enough feasible ones were found).
    public var evaluatedNodes: Int
    /// Nodes that passed every filter and were scored.
    public var feasibleNodes: Int
}

/// One scheduling decision at a time, kube-scheduler's `schedulePod`: filter
/// nodes (starting where the last pod stopped, until enough feasible ones are
/// found), score the feasible ones with weighted plugins, pick the best.
///
/// Pure and synchronous: it reads a ``ClusterSnapshot`` and returns a node
/// name or a ``FitError``. Binding and bookkeeping are the caller's.
public struct SchedulingAlgorithm: Sendable {
    public let configuration: SchedulerConfiguration
    let filters: [any FilterPlugin]
    let scorers: [(plugin: any ScorePlugin, weight: Int64)]
    /// Round-robin start, so consecutive pods look at different nodes first.
    private var nextStartIndex = 0
    private var random: SplitMix64

    public init(configuration: SchedulerConfiguration = SchedulerConfiguration()) {
        self.configuration = configuration
        let fit = NodeResourcesFit(strategy: configuration.scoringStrategy)
        // kube-scheduler's default filter order: cheap, common refusals first.
        filters = [
            NodeUnschedulable(), NodeName(), TaintToleration(), NodeReadiness(), NodeAffinity(), NodePorts(), fit,
            PodTopologySpread(), InterPodAffinity(),
        ]
        let allScorers: [any ScorePlugin] = [
            TaintToleration(), NodeAffinity(), PodTopologySpread(), fit, BalancedAllocation(), ImageLocality(),
        ]
        scorers = allScorers.compactMap { plugin -> (plugin: any ScorePlugin, weight: Int64)? in
            let weight = configuration.weights[plugin.name] ?? 0
            return weight > 0 ? (plugin: plugin, weight: weight) : nil
        }
        if case .random(let seed) = configuration.tieBreak { random = SplitMix64(seed: seed) } else { random = SplitMix64(seed: 0) }
    }

    /// Chooses a node for `pod`, or explains why none fits.
    public mutating func schedule(_ pod: PodInfo, in snapshot: ClusterSnapshot) -> Result<ScheduleResult, FitError> {
        let nodeCount = snapshot.nodeCount
        guard nodeCount > 0 else { return .failure(FitError(numberOfNodes: 0, reasons: [:])) }
        if !pod.problems.isEmpty {
            return .failure(FitError(numberOfNodes: nodeCount, reasons: [:], preFilterMessage: pod.problems.joined(separator: "; ")))
        }
        var state = CycleState(pod: pod)
        for filter in filters {
            if let message = filter.preFilter(&state, snapshot) {
                return .failure(FitError(numberOfNodes: nodeCount, reasons: [:], preFilterMessage: message))
            }
        }

        // Filter, from the round-robin start, until enough nodes fit.
        let wanted = numberOfFeasibleNodesToFind(nodeCount: nodeCount, percentage: configuration.percentageOfNodesToScore)
        var feasible: [Int] = []
        feasible.reserveCapacity(wanted)
        var reasons: [String: Int] = [:]
        var evaluated = 0
        let start = nextStartIndex % nodeCount
        let nodes = snapshot.nodes
        for offset in 0..<nodeCount {
            let slot = (start + offset) % nodeCount
            evaluated += 1
            if let failure = firstFailure(state, nodes[slot]) {
                for reason in failure { reasons[reason, default: 0] += 1 }
            } else {
                feasible.append(slot)
                if feasible.count >= wanted { break }
            }
        }
        nextStartIndex = (start + evaluated) % nodeCount
        guard !feasible.isEmpty else { return .failure(FitError(numberOfNodes: nodeCount, reasons: reasons)) }
        if feasible.count == 1 {
            return .success(ScheduleResult(nodeName: nodes[feasible[0]].name, evaluatedNodes: evaluated, feasibleNodes: 1))
        }

        // Score, normalize, weigh, sum.
        var totals = Array(repeating: Int64(0), count: feasible.count)
        var scores = Array(repeating: Int64(0), count: feasible.count)
        for (plugin, weight) in scorers {
            plugin.preScore(&state, snapshot, feasible: feasible)
            for (index, slot) in feasible.enumerated() { scores[index] = plugin.score(state, nodes[slot], snapshot) }
            plugin.normalize(&scores)
            for index in scores.indices { totals[index] += scores[index] * weight }
        }
        let chosen = select(totals, feasible, nodes)
        return .success(ScheduleResult(nodeName: nodes[chosen].name, evaluatedNodes: evaluated, feasibleNodes: feasible.count))
    }

    private func firstFailure(_ state: CycleState, _ node: NodeInfo) -> [String]? {
        for filter in filters {
            if let reasons = filter.filter(state, node) { return reasons }
        }
        return nil
    }

    /// The best total; ties by name or uniformly at random (reservoir sampling).
    private mutating func select(_ totals: [Int64], _ feasible: [Int], _ nodes: [NodeInfo]) -> Int {
        var best = 0
        var ties = 1
        for index in 1..<totals.count {
            if totals[index] > totals[best] {
                best = index
                ties = 1
            } else if totals[index] == totals[best] {
                ties += 1
                switch configuration.tieBreak {
                case .byName:
                    if nodes[feasible[index]].name < nodes[feasible[best]].name { best = index }
                case .random:
                    if random.next() % UInt64(ties) == 0 { best = index }
                }
            }
        }
        return feasible[best]
    }
}

/// A small, fast, seedable generator (Steele, Lea and Flood's SplitMix64):
/// reproducible tie-breaking in tests and benchmarks.
struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
