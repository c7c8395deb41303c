import CapstanAPI
import CapstanCore
import OrderedCollections

/// LimitRange and ResourceQuota, enforced where every create passes, as
/// Kubernetes' `LimitRanger` and `ResourceQuota` admission plugins do.
///
/// A quota's usage is computed from the stored objects, at admission and when
/// the quota is read (`status.hard` and `status.used` are filled in on every
/// GET and LIST), rather than kept by a controller: the answer is then never
/// behind the objects it counts (a pod that ended or was deleted frees its
/// share at once), with no second writer of quota objects to race. What that
/// costs: a watch of ResourceQuotas sees the status last stored, and two
/// creates at the same instant may both pass a quota with room for one.
extension ResourceRegistry {
    /// Applies the namespace's LimitRange defaults to a new pod, then refuses
    /// it (403) when it breaks a LimitRange's `min`, `max` or ratio.
    func admitLimitRanges(_ pod: inout Unstructured, namespace: String) async throws(APIError) {
        let items = LimitRanger.containerItems(try await list(BuiltinKinds.limitRange, namespace: namespace, options: ListOptions()).items)
        guard !items.isEmpty else { return }
        LimitRanger.applyDefaults(items, to: &pod)
        let problems = LimitRanger.violations(items, pod: Pod(json: pod.json))
        guard !problems.isEmpty else { return }
        let reason = problems.count == 1 ? problems[0] : "[" + problems.joined(separator: ", ") + "]"
        throw Self.forbidden(BuiltinKinds.pod, name: pod.metadata.name, because: reason)
    }

    /// Refuses a new object (403) that would take a quota of its namespace past `spec.hard`.
    func checkQuotas(_ info: KindInfo, namespace: String, object: JSONValue) async throws(APIError) {
        let quotas = try await list(BuiltinKinds.resourceQuota, namespace: namespace, options: ListOptions()).items
        for quota in quotas.sorted(by: { ($0[path: ["metadata", "name"]]?.stringValue ?? "") < ($1[path: ["metadata", "name"]]?.stringValue ?? "") })
        {
            let name = quota[path: ["metadata", "name"]]?.stringValue ?? ""
            let hard = Dictionary(uniqueKeysWithValues: LimitRanger.quantities(quota[path: ["spec", "hard"]]))
            let requested = QuotaUsage.charge(of: object, kind: info, hard: Array(hard.keys))
            guard !requested.isEmpty else { continue }
            if info == BuiltinKinds.pod, let pod = Pod(jsonValue: object) {
                let missing = QuotaUsage.unspecified(pod, hard: Array(hard.keys))
                if !missing.isEmpty {
                    throw Self.forbidden(
                        info, name: pod.metadata.name, because: "failed quota: \(name): must specify \(missing.joined(separator: ","))")
                }
            }
            let used = try await usage(namespace: namespace, hard: Array(hard.keys))
            let exceeded = requested.keys.filter { (used[$0] ?? .zero) + requested[$0]! > hard[$0]! }
            guard !exceeded.isEmpty else { continue }
            throw Self.forbidden(
                info, name: object[path: ["metadata", "name"]]?.stringValue ?? "",
                because:
                    "exceeded quota: \(name), requested: \(QuotaUsage.describe(requested, only: exceeded)), used: \(QuotaUsage.describe(used, only: exceeded)), limited: \(QuotaUsage.describe(hard, only: exceeded))"
            )
        }
    }

    /// What the stored objects of a namespace use of each hard name.
    func usage(namespace: String, hard: [String]) async throws(APIError) -> [String: Quantity] {
        var used: [String: Quantity] = Dictionary(uniqueKeysWithValues: hard.map { ($0, Quantity.zero) })
        for kind in QuotaUsage.kinds(for: hard) {
            for object in try await list(kind, namespace: namespace, options: ListOptions()).items {
                for (name, amount) in QuotaUsage.charge(of: object, kind: kind, hard: hard) { used[name, default: .zero] += amount }
            }
        }
        return used
    }

    /// A ResourceQuota as served: `status.hard` is its `spec.hard`, `status.used` what the namespace uses now.
    func withQuotaStatus(_ quota: JSONValue) async throws(APIError) -> JSONValue {
        guard case .object(let hardJSON)? = quota[path: ["spec", "hard"]], let namespace = quota[path: ["metadata", "namespace"]]?.stringValue
        else { return quota }
        let used = try await usage(namespace: namespace, hard: Array(hardJSON.keys))
        var usedJSON: JSONObject = [:]
        for name in hardJSON.keys.sorted() { usedJSON[name] = .string((used[name] ?? .zero).description) }
        var copy = quota
        copy["status"] = ["hard": .object(hardJSON), "used": .object(usedJSON)]
        return copy
    }

    /// Objects as served: ResourceQuotas with their live status, custom
    /// resources at the version asked for, everything else as stored.
    func served(_ info: KindInfo, _ objects: [JSONValue]) async throws(APIError) -> [JSONValue] {
        guard info == BuiltinKinds.resourceQuota else { return objects.map { presented(info, $0) } }
        var result: [JSONValue] = []
        for object in objects { result.append(try await withQuotaStatus(object)) }
        return result
    }
}
