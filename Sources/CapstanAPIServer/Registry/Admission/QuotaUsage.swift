import CapstanCore
import OrderedCollections

/// What objects charge against a ResourceQuota's `spec.hard`, as Kubernetes'
/// quota evaluators count it, for the names Capstan supports: `pods`,
/// `requests.cpu`, `requests.memory`, `limits.cpu`, `limits.memory` (and `cpu`,
/// `memory`, meaning requests), `count/<resource>[.<group>]`, and the object
/// counts `configmaps`, `secrets`, `services`, `services.nodeports`,
/// `services.loadbalancers`, `resourcequotas`, `replicationcontrollers`.
/// Pods that ended (`Succeeded`, `Failed`) charge nothing.
enum QuotaUsage {
    /// The object-count names Kubernetes keeps besides `count/…`, and the resource each counts.
    static let objectCounts: [String: String] = [
        "configmaps": "configmaps", "secrets": "secrets", "services": "services", "resourcequotas": "resourcequotas",
        "replicationcontrollers": "replicationcontrollers",
    ]

    /// The pod compute names a quota may hold, and which side of a container's resources each sums.
    static let podCompute: [String: (field: String, resource: String)] = [
        "requests.cpu": ("requests", "cpu"), "cpu": ("requests", "cpu"), "requests.memory": ("requests", "memory"),
        "memory": ("requests", "memory"), "limits.cpu": ("limits", "cpu"), "limits.memory": ("limits", "memory"),
    ]

    /// The kinds whose objects a quota with these hard names must see to compute its usage.
    static func kinds(for hard: [String]) -> Set<KindInfo> {
        var kinds: Set<KindInfo> = []
        for name in hard {
            if name == "pods" || podCompute[name] != nil { kinds.insert(BuiltinKinds.pod) }
            if name.hasPrefix("services.") { kinds.insert(BuiltinKinds.service) }
            let resource = name.hasPrefix("count/") ? String(name.dropFirst(6)) : objectCounts[name]
            if let resource, let kind = kind(named: resource) { kinds.insert(kind) }
        }
        return kinds
    }

    /// The built-in kind `count/<resource>[.<group>]` names.
    static func kind(named qualified: String) -> KindInfo? {
        let parts = qualified.split(separator: ".", maxSplits: 1).map(String.init)
        let group = parts.count > 1 ? parts[1] : ""
        return BuiltinKinds.all.first { $0.resource == parts[0] && $0.group == group && $0.namespaced }
    }

    /// What one object of `kind` charges against each of the `hard` names.
    static func charge(of object: JSONValue, kind: KindInfo, hard: [String]) -> [String: Quantity] {
        var usage: [String: Quantity] = [:]
        let isPod = kind == BuiltinKinds.pod
        if isPod, isTerminal(object) { return [:] }
        for name in hard {
            if name.hasPrefix("count/") || objectCounts[name] != nil {
                let resource = name.hasPrefix("count/") ? String(name.dropFirst(6)) : objectCounts[name]!
                if self.kind(named: resource) == kind { usage[name] = Quantity(1) }
            } else if isPod, name == "pods" {
                usage[name] = Quantity(1)
            } else if isPod, let (field, resource) = podCompute[name], let pod = Pod(jsonValue: object) {
                usage[name] = podTotal(pod.spec, field: field, resource: resource)
            } else if kind == BuiltinKinds.service, let type = object[path: ["spec", "type"]]?.stringValue {
                if name == "services.loadbalancers", type == "LoadBalancer" { usage[name] = Quantity(1) }
                if name == "services.nodeports", ["NodePort", "LoadBalancer"].contains(type) {
                    usage[name] = Quantity(Int64(object[path: ["spec", "ports"]]?.arrayValue?.count ?? 0))
                }
            }
        }
        return usage
    }

    /// The hard names a pod must set for this quota to count it (`requests.cpu` needs every
    /// container to request cpu), as Kubernetes refuses it with `must specify`.
    static func unspecified(_ pod: Pod, hard: [String]) -> [String] {
        hard.filter { name in
            guard let (field, resource) = podCompute[name] else { return false }
            return (pod.spec.containers + pod.spec.initContainers).contains { container in
                (field == "requests" ? container.resources.requests : container.resources.limits)[resource] == nil
            }
        }.sorted()
    }

    /// Kubernetes' pod total: the larger of the containers' sum and any one init container.
    static func podTotal(_ spec: PodSpec, field: String, resource: String) -> Quantity {
        func amount(_ container: Container) -> Quantity {
            (field == "requests" ? container.resources.requests : container.resources.limits)[resource] ?? .zero
        }
        let sum = spec.containers.reduce(Quantity.zero) { $0 + amount($1) }
        return spec.initContainers.map(amount).reduce(sum) { max($0, $1) }
    }

    static func isTerminal(_ pod: JSONValue) -> Bool {
        ["Succeeded", "Failed"].contains(pod[path: ["status", "phase"]]?.stringValue ?? "")
    }

    /// `name=value` pairs in name order, joined by commas, as Kubernetes prints a resource list.
    static func describe(_ list: [String: Quantity], only names: [String]) -> String {
        names.sorted().map { "\($0)=\(list[$0] ?? .zero)" }.joined(separator: ",")
    }
}
