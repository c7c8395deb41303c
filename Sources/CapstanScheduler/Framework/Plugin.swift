/// Data computed once per scheduling cycle (kube-scheduler's `CycleState`):
/// the pre-filter and pre-score steps fill it, filters and scorers read it for
/// each node. One plain struct instead of a type-erased map keeps the per-node
/// loop free of lookups and casts.
struct CycleState {
    var pod: PodInfo

    // InterPodAffinity
    /// Topology values (by key) that existing pods' anti-affinity keeps this pod away from.
    var forbiddenByExistingPods: [String: Set<String>] = [:]
    /// Per own required anti-affinity term: matching pods per topology value.
    var antiAffinityCounts: [[String: Int]] = []
    /// Per own required affinity term: matching pods per topology value.
    var affinityCounts: [[String: Int]] = []
    /// No pod anywhere matches the affinity terms but the pod matches them itself:
    /// the first replica of a group that wants to be together may go anywhere.
    var affinitySatisfiedBySelf = false

    // PodTopologySpread
    /// Per constraint (in pod order): matching pods per topology value.
    var spreadCounts: [[String: Int]] = []
    /// Per hard constraint: the smallest count over eligible domains.
    var spreadMinimum: [Int] = []
    /// Per constraint: does the incoming pod match its own selector?
    var spreadSelfMatch: [Bool] = []
    /// Per soft constraint: how much it weighs (more domains, more weight).
    var spreadWeights: [Double] = []

    init(pod: PodInfo) { self.pod = pod }
}

/// A filter: can this pod run on this node? (kube-scheduler's Filter extension point.)
protocol FilterPlugin: Sendable {
    var name: String { get }
    /// Computes what the filter needs for every node. A message refuses the
    /// pod for all nodes at once (`0/N nodes are available: <message>.`).
    func preFilter(_ state: inout CycleState, _ snapshot: ClusterSnapshot) -> String?
    /// nil when the node fits; otherwise the reasons, worded as Kubernetes
    /// words them (they are counted per reason in the FailedScheduling message).
    func filter(_ state: CycleState, _ node: NodeInfo) -> [String]?
}

extension FilterPlugin {
    func preFilter(_ state: inout CycleState, _ snapshot: ClusterSnapshot) -> String? { nil }
}

/// A score: how good is this feasible node? (Score + NormalizeScore.)
protocol ScorePlugin: Sendable {
    var name: String { get }
    func preScore(_ state: inout CycleState, _ snapshot: ClusterSnapshot, feasible: [Int])
    func score(_ state: CycleState, _ node: NodeInfo, _ snapshot: ClusterSnapshot) -> Int64
    /// Rescales raw scores to 0…100 (higher is better).
    func normalize(_ scores: inout [Int64])
}

extension ScorePlugin {
    func preScore(_ state: inout CycleState, _ snapshot: ClusterSnapshot, feasible: [Int]) {}
    func normalize(_ scores: inout [Int64]) {}
}

/// The best score a plugin gives after normalizing.
let maxNodeScore: Int64 = 100

/// Scales scores so the largest is 100 (or reversed: the largest becomes 0).
func normalizeToMax(_ scores: inout [Int64], reverse: Bool) {
    let highest = scores.max() ?? 0
    guard highest > 0 else {
        if reverse { for index in scores.indices { scores[index] = maxNodeScore } }
        return
    }
    for index in scores.indices {
        let scaled = scores[index] * maxNodeScore / highest
        scores[index] = reverse ? maxNodeScore - scaled : scaled
    }
}
