import CapstanCore

/// The scheduler's picture of the cluster: every node with the pods bound or
/// assumed on it, plus indexes that keep placement rules cheap at thousands
/// of nodes. Updated incrementally as pods and nodes change; no I/O.
///
/// The indexes are what kube-scheduler computes per cycle by walking every
/// pod; keeping them up to date on each change makes a scheduling cycle cost
/// what the incoming pod's rules need, not what the cluster holds:
/// - pods by label (`key=value` → nodes and counts), to find the pods a
///   selector can match without scanning all of them;
/// - existing pods' required anti-affinity terms, grouped by identical term
///   (a Deployment's replicas share one), with the nodes their pods are on;
/// - how many nodes hold each image, for image locality.
public struct ClusterSnapshot: Sendable {
    public private(set) var nodes: [NodeInfo] = []
    private var slotByName: [String: Int] = [:]
    private var podSlot: [String: Int] = [:]
    /// Pods bound to a node the snapshot does not know yet, by node name.
    private var waitingForNode: [String: [PodInfo]] = [:]
    private(set) var labelIndex: [LabelPair: [Int: Int]] = [:]
    private(set) var antiAffinityGroups: [PodAffinityTerm: [Int: Int]] = [:]
    /// The groups' terms by a `key=value` their selector requires, so that an
    /// incoming pod only tests the terms its own labels could satisfy.
    private var antiAffinityTermsByLabel: [LabelPair: Set<PodAffinityTerm>] = [:]
    /// Terms whose selector requires no single label value (only `Exists`, `NotIn`…).
    private var unindexedAntiAffinityTerms: Set<PodAffinityTerm> = []
    private(set) var imageNodeCount: [String: Int] = [:]

    struct LabelPair: Hashable {
        var key: String
        var value: String
    }

    public init() {}

    public init(nodes: [NodeInfo]) {
        for node in nodes { upsertNode(node) }
    }

    public var nodeCount: Int { nodes.count }
    public var podCount: Int { podSlot.count }

    public func node(named name: String) -> NodeInfo? {
        slotByName[name].map { nodes[$0] }
    }

    func slot(of name: String) -> Int? { slotByName[name] }

    public func contains(podKey key: String) -> Bool { podSlot[key] != nil }

    /// The node a pod is on, when the snapshot has it.
    public func nodeName(ofPod key: String) -> String? { podSlot[key].map { nodes[$0].name } }

    // MARK: Nodes

    /// Adds a node or updates its labels, taints, capacity and conditions, keeping its pods.
    public mutating func upsertNode(_ info: NodeInfo) {
        if let slot = slotByName[info.name] {
            unindexImages(nodes[slot])
            nodes[slot].replaceNode(with: info)
            indexImages(nodes[slot])
            return
        }
        var fresh = info
        fresh.pods = []
        fresh.requested = Resources()
        fresh.nonZeroRequested = Resources()
        fresh.usedPorts = []
        nodes.append(fresh)
        slotByName[info.name] = nodes.count - 1
        indexImages(fresh)
        for pod in info.pods + (waitingForNode.removeValue(forKey: info.name) ?? []) { addPod(pod) }
    }

    /// Removes a node; its pods leave the snapshot with it.
    public mutating func removeNode(named name: String) {
        guard let slot = slotByName[name] else { return }
        let removed = nodes.remove(at: slot)
        unindexImages(removed)
        // Slots after the removed one shift: rebuild the slot-keyed indexes (node removal is rare).
        let remaining = nodes
        nodes = []
        slotByName = [:]
        podSlot = [:]
        labelIndex = [:]
        antiAffinityGroups = [:]
        antiAffinityTermsByLabel = [:]
        unindexedAntiAffinityTerms = []
        imageNodeCount = [:]
        for node in remaining { upsertNode(node) }
    }

    // MARK: Pods

    /// Adds a pod bound (or assumed) to `pod.nodeName`; replaces an older copy.
    public mutating func addPod(_ pod: PodInfo) {
        if podSlot[pod.key] != nil { removePod(key: pod.key) }
        guard let slot = slotByName[pod.nodeName] else {
            guard !pod.nodeName.isEmpty else { return }
            waitingForNode[pod.nodeName, default: []].removeAll { $0.key == pod.key }
            waitingForNode[pod.nodeName, default: []].append(pod)
            return
        }
        nodes[slot].add(pod)
        podSlot[pod.key] = slot
        for (key, value) in pod.labels { labelIndex[LabelPair(key: key, value: value), default: [:]][slot, default: 0] += 1 }
        for term in pod.requiredAntiAffinity {
            if antiAffinityGroups[term] == nil { indexTerm(term, add: true) }
            antiAffinityGroups[term, default: [:]][slot, default: 0] += 1
        }
    }

    /// Removes a pod (deleted, or an assumption that did not hold).
    public mutating func removePod(key: String) {
        guard let slot = podSlot.removeValue(forKey: key) else {
            for (node, pods) in waitingForNode where pods.contains(where: { $0.key == key }) {
                waitingForNode[node]?.removeAll { $0.key == key }
            }
            return
        }
        guard let pod = nodes[slot].remove(key: key) else { return }
        for (key, value) in pod.labels { Self.decrement(&labelIndex, LabelPair(key: key, value: value), slot) }
        for term in pod.requiredAntiAffinity {
            Self.decrement(&antiAffinityGroups, term, slot)
            if antiAffinityGroups[term] == nil { indexTerm(term, add: false) }
        }
    }

    private mutating func indexTerm(_ term: PodAffinityTerm, add: Bool) {
        guard
            let requirement = term.selector.requirements.first(where: { $0.operator == .equals || $0.operator == .doubleEquals || $0.operator == .in }
            )
        else {
            if add { unindexedAntiAffinityTerms.insert(term) } else { unindexedAntiAffinityTerms.remove(term) }
            return
        }
        for value in requirement.values {
            let pair = LabelPair(key: requirement.key, value: value)
            if add {
                antiAffinityTermsByLabel[pair, default: []].insert(term)
            } else {
                antiAffinityTermsByLabel[pair]?.remove(term)
                if antiAffinityTermsByLabel[pair]?.isEmpty == true { antiAffinityTermsByLabel.removeValue(forKey: pair) }
            }
        }
    }

    /// Existing pods' anti-affinity terms that may match a pod with these
    /// labels (a superset: callers still check each term).
    func antiAffinityTermCandidates(labels: [String: String]) -> Set<PodAffinityTerm> {
        var terms = unindexedAntiAffinityTerms
        for (key, value) in labels {
            if let matching = antiAffinityTermsByLabel[LabelPair(key: key, value: value)] { terms.formUnion(matching) }
        }
        return terms
    }

    private static func decrement<Key: Hashable>(_ index: inout [Key: [Int: Int]], _ key: Key, _ slot: Int) {
        guard var counts = index[key], let count = counts[slot] else { return }
        if count <= 1 { counts.removeValue(forKey: slot) } else { counts[slot] = count - 1 }
        index[key] = counts.isEmpty ? nil : counts
    }

    private mutating func indexImages(_ node: NodeInfo) {
        for image in node.images.keys { imageNodeCount[image, default: 0] += 1 }
    }

    private mutating func unindexImages(_ node: NodeInfo) {
        for image in node.images.keys {
            imageNodeCount[image, default: 0] -= 1
            if imageNodeCount[image] ?? 0 <= 0 { imageNodeCount.removeValue(forKey: image) }
        }
    }

    // MARK: Queries for plugins

    /// Slots of nodes holding pods that `selector` may match (a superset),
    /// found through the label index when the selector has an equality or
    /// `in` requirement; every slot otherwise.
    func candidateSlots(for selector: LabelSelector) -> [Int]? {
        for requirement in selector.requirements {
            switch requirement.operator {
            case .equals, .doubleEquals, .in:
                var slots = Set<Int>()
                for value in requirement.values {
                    if let counts = labelIndex[LabelPair(key: requirement.key, value: value)] { slots.formUnion(counts.keys) }
                }
                return Array(slots)
            default:
                continue
            }
        }
        return nil
    }

    /// How many pods matching `matches` each topology value (of `topologyKey`) holds.
    func countMatchingPods(selector: LabelSelector, topologyKey: String, _ matches: (PodInfo) -> Bool) -> [String: Int] {
        var counts: [String: Int] = [:]
        func visit(_ slot: Int) {
            let node = nodes[slot]
            guard let value = node.labels[topologyKey] else { return }
            var found = 0
            for pod in node.pods where matches(pod) { found += 1 }
            if found > 0 { counts[value, default: 0] += found }
        }
        if let slots = candidateSlots(for: selector) {
            for slot in slots { visit(slot) }
        } else {
            for slot in nodes.indices { visit(slot) }
        }
        return counts
    }
}
