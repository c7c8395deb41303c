public import CapstanCore

/// How the scheduler chooses: the profile (score strategy and weights), how
/// many nodes it looks at per pod, how ties are broken, and retry timing.
public struct SchedulerConfiguration: Sendable {
    /// How NodeResourcesFit scores a node's CPU and memory.
    public enum ScoringStrategy: String, Sendable, Hashable {
        /// Emptiest node first: spreads load (kube-scheduler's default).
        case leastAllocated = "LeastAllocated"
        /// Fullest node that fits first: bin packing, so whole nodes stay free.
        case mostAllocated = "MostAllocated"
    }

    /// What to do when several nodes share the best score.
    public enum TieBreak: Sendable, Hashable {
        /// The node whose name sorts first: reproducible placements.
        case byName
        /// Uniformly among the best, from a seeded generator (kube-scheduler picks at random).
        case random(seed: UInt64)
    }

    /// Pods whose `spec.schedulerName` is this (or empty) are ours.
    public var schedulerName = "default-scheduler"
    public var scoringStrategy: ScoringStrategy = .leastAllocated
    /// Percentage of nodes to find feasible before scoring; nil for
    /// kube-scheduler's adaptive rule (50% − nodes/125, at least 5%, and at
    /// least 100 nodes); 100 to always look at every node.
    public var percentageOfNodesToScore: Int?
    public var tieBreak: TieBreak = .random(seed: 0x5eed)
    /// Score plugin weights by plugin name; defaults are kube-scheduler's default profile.
    public var weights: [String: Int64] = [
        "TaintToleration": 3, "NodeAffinity": 2, "PodTopologySpread": 2, "NodeResourcesFit": 1,
        "NodeResourcesBalancedAllocation": 1, "ImageLocality": 1,
    ]
    /// The field manager the scheduler's writes are recorded under.
    public var fieldManager = "capstan-scheduler"
    /// How often pods that stayed unschedulable are retried even without a cluster event,
    /// and how long one must have waited for that (kube-scheduler: every 30 s, after 5 min).
    public var unschedulableFlushInterval: Duration = .seconds(60)
    public var unschedulableMaxWait: Duration = .seconds(300)
    /// Back-off between attempts for a pod that failed to bind or hit an error.
    public var initialBackoff: Duration = .seconds(1)
    public var maxBackoff: Duration = .seconds(10)
    /// What every wait runs on: back-off, the periodic flush and how long a pod
    /// has waited for it, and the scheduler's own informers' re-list back-off.
    /// Tests pass a manual clock and advance it.
    public var clock: any Clock<Duration> = ContinuousClock()
    /// What the `PodScheduled` condition's time is read from.
    public var wallClock: any WallClock = SystemWallClock()

    public init() {}
}

/// kube-scheduler's `numFeasibleNodesToFind`: how many feasible nodes are
/// enough to choose well. Below 100 nodes every node is looked at.
func numberOfFeasibleNodesToFind(nodeCount: Int, percentage: Int?) -> Int {
    let minimumNodes = 100
    let minimumPercentage = 5
    if nodeCount < minimumNodes { return nodeCount }
    var percent = percentage ?? 0
    if percent >= 100 { return nodeCount }
    if percent <= 0 {
        percent = 50 - nodeCount / 125
        if percent < minimumPercentage { percent = minimumPercentage }
    }
    let count = nodeCount * percent / 100
    return min(nodeCount, max(count, minimumNodes))
}
