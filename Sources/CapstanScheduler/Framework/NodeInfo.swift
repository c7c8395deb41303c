public import CapstanCore

/// One node as the scheduler sees it: what it offers, what its pods already
/// take, and what placement rules read (labels, taints, ports, pods' labels).
public struct NodeInfo: Sendable {
    public var name: String
    public var labels: [String: String]
    public var taints: [TaintInfo]
    public var unschedulable: Bool
    /// The node's `Ready` condition: `True`, `False` or `Unknown` (no condition reported).
    public var readiness: String
    public var allocatable: Resources
    public var allowedPodCount: Int
    /// Sum of the effective requests of the pods on the node.
    public var requested = Resources()
    /// The same with non-zero defaults, for scoring.
    public var nonZeroRequested = Resources()
    public var usedPorts: [HostPort] = []
    public var pods: [PodInfo] = []
    /// Image names (every tag and digest the node reports) and their sizes in bytes.
    public var images: [String: Int64]

    public init(
        name: String, labels: [String: String] = [:], taints: [TaintInfo] = [], unschedulable: Bool = false,
        readiness: String = "True", allocatable: Resources, allowedPodCount: Int = 110, images: [String: Int64] = [:]
    ) {
        self.name = name
        var labels = labels
        if labels["kubernetes.io/hostname"] == nil { labels["kubernetes.io/hostname"] = name }
        self.labels = labels
        self.taints = taints
        self.unschedulable = unschedulable
        self.readiness = readiness
        self.allocatable = allocatable
        self.allowedPodCount = allowedPodCount
        self.images = images
    }

    /// Reads a Node object.
    public init(_ node: Node) {
        let status = node.status
        let allocatable = status.allocatable.isEmpty ? status.capacity : status.allocatable
        var images: [String: Int64] = [:]
        for image in status.images {
            let size = image["sizeBytes"]?.intValue ?? 0
            for name in image["names"]?.arrayValue?.compactMap(\.stringValue) ?? [] { images[ImageName.normalized(name)] = size }
        }
        self.init(
            name: node.metadata.name, labels: node.metadata.labels,
            taints: node.spec.taints.map { TaintInfo(key: $0.key, value: $0.value ?? "", effect: $0.effect) },
            unschedulable: node.spec.unschedulable,
            readiness: status.conditions.first { $0.type == "Ready" }?.status ?? "Unknown",
            allocatable: Resources(allocatable),
            allowedPodCount: Int(allocatable["pods"]?.value ?? 110),
            images: images)
    }

    mutating func add(_ pod: PodInfo) {
        pods.append(pod)
        requested.add(pod.requests)
        nonZeroRequested.add(pod.nonZeroRequests)
        usedPorts.append(contentsOf: pod.hostPorts)
    }

    /// Removes the pod with this key; false when it is not here.
    mutating func remove(key: String) -> PodInfo? {
        guard let index = pods.firstIndex(where: { $0.key == key }) else { return nil }
        let pod = pods.remove(at: index)
        requested.subtract(pod.requests)
        nonZeroRequested.subtract(pod.nonZeroRequests)
        for port in pod.hostPorts {
            if let used = usedPorts.firstIndex(of: port) { usedPorts.remove(at: used) }
        }
        return pod
    }

    /// Keeps the pods (and their sums) while the node object itself changes.
    mutating func replaceNode(with fresh: NodeInfo) {
        name = fresh.name
        labels = fresh.labels
        taints = fresh.taints
        unschedulable = fresh.unschedulable
        readiness = fresh.readiness
        allocatable = fresh.allocatable
        allowedPodCount = fresh.allowedPodCount
        images = fresh.images
    }
}

/// Image names as nodes report them and pods write them, made comparable
/// (`nginx` → `docker.io/library/nginx:latest`).
enum ImageName {
    static func normalized(_ name: String) -> String {
        var name = name
        if name.contains("@") { return name }
        let lastComponent = name.split(separator: "/").last.map(String.init) ?? name
        if !lastComponent.contains(":") { name += ":latest" }
        let first = name.split(separator: "/", maxSplits: 1).first.map(String.init) ?? name
        let hasRegistry = name.contains("/") && (first.contains(".") || first.contains(":") || first == "localhost")
        if hasRegistry { return name }
        return name.contains("/") ? "docker.io/" + name : "docker.io/library/" + name
    }
}
