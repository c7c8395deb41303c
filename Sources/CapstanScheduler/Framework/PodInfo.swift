public import CapstanCore
import OrderedCollections

/// What the scheduler needs to know about a pod, read from its JSON once:
/// the scheduling loop compares numbers and strings, never parses.
public struct PodInfo: Sendable {
    public var namespace: String
    public var name: String
    public var uid: String
    public var labels: [String: String]
    public var nodeName: String
    public var schedulerName: String
    /// Effective requests: max(sum of containers, largest init container) plus overhead.
    public var requests: Resources
    /// Requests with Kubernetes' non-zero defaults (100m CPU, 200 MiB) for
    /// containers that set none, used only for scoring (so empty pods still spread).
    public var nonZeroRequests: Resources
    public var hostPorts: [HostPort]
    public var nodeSelector: [String: String]
    public var requiredNodeAffinity: NodeSelectorTerms?
    public var preferredNodeAffinity: [(weight: Int64, term: NodeSelectorTerm)]
    public var tolerations: [TolerationInfo]
    public var requiredAffinity: [PodAffinityTerm]
    public var requiredAntiAffinity: [PodAffinityTerm]
    public var spreadConstraints: [SpreadConstraint]
    public var images: [String]
    /// Why the pod's spec could not be read in full (an unknown operator…);
    /// a pod with problems is unschedulable with this message rather than misplaced.
    public var problems: [String]

    public var key: String { "\(namespace)/\(name)" }

    static let defaultMilliCPU: Int64 = 100
    static let defaultMemory: Int64 = 200 * 1024 * 1024

    public init(_ pod: Pod) {
        let meta = pod.metadata
        let spec = pod.spec
        namespace = meta.namespace ?? "default"
        name = meta.name
        uid = meta.uid ?? ""
        labels = meta.labels
        nodeName = spec.nodeName ?? ""
        schedulerName = spec.schedulerName
        nodeSelector = spec.nodeSelector
        problems = []

        var sum = Resources()
        var nonZero = Resources()
        var ports: [HostPort] = []
        var images: [String] = []
        for container in spec.containers {
            let requests = container.resources.requests
            let resources = Resources(requests)
            sum.add(resources)
            var defaulted = resources
            if requests["cpu"] == nil { defaulted.milliCPU = Self.defaultMilliCPU }
            if requests["memory"] == nil { defaulted.memory = Self.defaultMemory }
            nonZero.add(defaulted)
            for port in container.ports {
                guard let hostPort = port.hostPort, hostPort > 0 else { continue }
                ports.append(HostPort(protocol: port.protocol, ip: port.hostIP ?? "0.0.0.0", port: hostPort))
            }
            if let image = container.image { images.append(image) }
        }
        // Init containers run one at a time before the others: the pod needs the largest of them.
        for container in spec.initContainers {
            let resources = Resources(container.resources.requests)
            sum = sum.maximum(resources)
            nonZero = nonZero.maximum(resources)
        }
        if let overhead = pod.spec.json["overhead"]?.objectValue {
            var quantities: [String: Quantity] = [:]
            for (name, value) in overhead { if let quantity = try? Quantity(json: value) { quantities[name] = quantity } }
            sum.add(Resources(quantities))
            nonZero.add(Resources(quantities))
        }
        requests = sum
        nonZeroRequests = nonZero
        hostPorts = ports
        self.images = images

        tolerations = spec.tolerations.map(TolerationInfo.init)
        let affinity = spec.affinity ?? .object([:])
        var problems: [String] = []
        requiredNodeAffinity = affinity[path: ["nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"]].map {
            NodeSelectorTerms($0, problems: &problems)
        }
        preferredNodeAffinity = (affinity[path: ["nodeAffinity", "preferredDuringSchedulingIgnoredDuringExecution"]]?.arrayValue ?? []).compactMap {
            guard let weight = $0["weight"]?.intValue, let term = $0["preference"] else { return nil }
            return (weight, NodeSelectorTerm(term, problems: &problems))
        }
        let namespace = self.namespace
        requiredAffinity = (affinity[path: ["podAffinity", "requiredDuringSchedulingIgnoredDuringExecution"]]?.arrayValue ?? []).compactMap {
            PodAffinityTerm($0, ownNamespace: namespace, problems: &problems)
        }
        requiredAntiAffinity = (affinity[path: ["podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution"]]?.arrayValue ?? []).compactMap {
            PodAffinityTerm($0, ownNamespace: namespace, problems: &problems)
        }
        spreadConstraints = spec.topologySpreadConstraints.compactMap {
            SpreadConstraint($0, ownNamespace: namespace, labels: meta.labels, problems: &problems)
        }
        self.problems = problems
    }
}

/// A host port a container asks for; `0.0.0.0` means every address.
public struct HostPort: Hashable, Sendable {
    public var `protocol`: String
    public var ip: String
    public var port: Int64

    public init(protocol: String = "TCP", ip: String = "0.0.0.0", port: Int64) {
        self.protocol = `protocol`
        self.ip = ip.isEmpty ? "0.0.0.0" : ip
        self.port = port
    }

    /// Kubernetes' rule: same protocol and port, and the same address or either is the wildcard.
    func conflicts(with other: HostPort) -> Bool {
        port == other.port && `protocol` == other.protocol && (ip == other.ip || ip == "0.0.0.0" || other.ip == "0.0.0.0")
    }
}

/// A toleration, ready to compare against taints.
public struct TolerationInfo: Hashable, Sendable {
    public var key: String
    public var exists: Bool
    public var value: String
    public var effect: String

    init(_ toleration: Toleration) {
        key = toleration.key ?? ""
        exists = toleration.operator == "Exists"
        value = toleration.value ?? ""
        effect = toleration.effect ?? ""
    }

    public init(key: String, exists: Bool = false, value: String = "", effect: String = "") {
        self.key = key
        self.exists = exists
        self.value = value
        self.effect = effect
    }

    /// Kubernetes' `ToleratesTaint`: an empty effect matches every effect, an
    /// empty key with `Exists` matches every taint.
    func tolerates(_ taint: TaintInfo) -> Bool {
        if !effect.isEmpty, effect != taint.effect { return false }
        if !key.isEmpty, key != taint.key { return false }
        if exists { return true }
        return !key.isEmpty && value == taint.value
    }
}

/// A node taint.
public struct TaintInfo: Hashable, Sendable {
    public var key: String
    public var value: String
    public var effect: String

    public init(key: String, value: String = "", effect: String) {
        self.key = key
        self.value = value
        self.effect = effect
    }
}
