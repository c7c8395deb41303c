import OrderedCollections

/// A pod's quality-of-service class, as Kubernetes computes it
/// (`pkg/apis/core/helper/qos.ComputePodQOS`): the kubelet evicts
/// `BestEffort` pods first and `Guaranteed` pods last.
public enum PodQOSClass: String, Hashable, Sendable {
    case guaranteed = "Guaranteed"
    case burstable = "Burstable"
    case bestEffort = "BestEffort"

    /// Only these resources decide the class; extended resources and ephemeral storage do not.
    static let computeResources: Set<String> = ["cpu", "memory"]

    /// The class of a pod with this spec. Requests and limits are summed over
    /// every container, init containers included, counting only positive
    /// cpu and memory quantities:
    /// - `BestEffort`: no such request or limit anywhere;
    /// - `Guaranteed`: every container limits both cpu and memory, and the
    ///   summed requests equal the summed limits for each resource;
    /// - `Burstable`: anything else.
    ///
    /// The spec is read as stored, so requests defaulted from limits
    /// (``PodSpec/defaultRequestsFromLimits()``) must already be there.
    public init(of spec: PodSpec) {
        var requests: [String: Quantity] = [:]
        var limits: [String: Quantity] = [:]
        var everyContainerLimitsBoth = true
        for container in spec.containers + spec.initContainers {
            for (name, quantity) in container.resources.requests where Self.counts(name, quantity) {
                requests[name, default: .zero] += quantity
            }
            var limited: Set<String> = []
            for (name, quantity) in container.resources.limits where Self.counts(name, quantity) {
                limited.insert(name)
                limits[name, default: .zero] += quantity
            }
            if !limited.isSuperset(of: Self.computeResources) { everyContainerLimitsBoth = false }
        }
        if requests.isEmpty && limits.isEmpty {
            self = .bestEffort
        } else if everyContainerLimitsBoth, requests.count == limits.count, requests.allSatisfy({ limits[$0.key] == $0.value }) {
            self = .guaranteed
        } else {
            self = .burstable
        }
    }

    private static func counts(_ name: String, _ quantity: Quantity) -> Bool {
        computeResources.contains(name) && quantity > .zero
    }
}

extension PodSpec {
    /// Kubernetes' defaulting of a new pod: a container that sets a limit but
    /// no request for that resource requests what it limits, init containers
    /// included. (Pod templates are not defaulted, as in Kubernetes.)
    public mutating func defaultRequestsFromLimits() {
        for field in ["containers", "initContainers"] {
            guard case .array(var containers)? = json[field] else { continue }
            for index in containers.indices {
                guard case .object(var container) = containers[index], case .object(var resources)? = container["resources"],
                    case .object(let limits)? = resources["limits"]
                else { continue }
                var requests: JSONObject
                switch resources["requests"] {
                case nil, .null?: requests = [:]
                case .object(let existing)?: requests = existing
                default: continue  // malformed: left for validation to report
                }
                for (name, limit) in limits where requests[name] == nil { requests[name] = limit }
                resources["requests"] = requests.isEmpty ? resources["requests"] : .object(requests)
                container["resources"] = .object(resources)
                containers[index] = .object(container)
            }
            json[field] = .array(containers)
        }
    }
}
