import CapstanAPI
import CapstanCore
import OrderedCollections

/// Services: a status subresource, Kubernetes' defaults on every create and
/// update (``KubernetesDefaults``: type, session affinity, port protocols and
/// target ports, traffic policies), and a new Service's status starts as
/// Kubernetes' does, `{loadBalancer: {}}`, which clients read without checking.
///
/// The ClusterIP and NodePorts themselves are given in the registry, which
/// can reach the store (Allocation/ServiceAllocations.swift). What this
/// strategy adds to updates is Kubernetes' `patchAllocatedValues` and
/// `dropTypeDependentFields`: a replacement that leaves them out keeps the
/// ones given (so `kubectl replace` or a GitOps apply of a manifest without
/// them changes nothing), and a change of type that no longer needs them
/// drops the ones given rather than failing validation over them.
struct ServiceStrategy: ResourceStrategy {
    var hasStatusSubresource: Bool { true }
    var returnsDeletedObject: Bool { true }

    func prepareForCreate(_ object: inout Unstructured) {
        KubernetesDefaults.apply(to: &object.json, kind: BuiltinKinds.service)
        Self.fillClusterIPFromList(&object)
        var status = object.json["status"]?.objectValue ?? [:]
        if status["loadBalancer"] == nil { status["loadBalancer"] = .object([:]) }
        object.json["status"] = .object(status)
    }

    func prepareForUpdate(_ object: inout Unstructured, old: Unstructured) {
        KubernetesDefaults.apply(to: &object.json, kind: BuiltinKinds.service)
        Self.fillClusterIPFromList(&object)
        guard var spec = object.json["spec"]?.objectValue, let oldSpec = old.json["spec"]?.objectValue else { return }
        let type = spec["type"]?.stringValue ?? "ClusterIP"
        let oldType = oldSpec["type"]?.stringValue ?? "ClusterIP"
        if type != "ExternalName", oldType != "ExternalName" {
            if (spec["clusterIP"]?.stringValue ?? "").isEmpty, let kept = oldSpec["clusterIP"] { spec["clusterIP"] = kept }
            // Kubernetes' normalizeClusterIPs: a list left out follows the address.
            if (spec["clusterIPs"]?.arrayValue ?? []).isEmpty {
                spec["clusterIPs"] = spec["clusterIP"] == oldSpec["clusterIP"] ? oldSpec["clusterIPs"] : spec["clusterIP"].map { [$0] }
            }
        } else if type == "ExternalName", oldType != "ExternalName" {
            for field in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "internalTrafficPolicy"] where spec[field] == oldSpec[field] {
                spec.removeValue(forKey: field)
            }
        }
        let oldPorts = oldSpec["ports"]?.arrayValue ?? []
        if case .array(var ports)? = spec["ports"] {
            for index in ports.indices {
                guard case .object(var port) = ports[index] else { continue }
                let previous = oldPorts.first { $0["port"] == port["port"] && $0["protocol"] == port["protocol"] }?["nodePort"]
                if ServiceNetwork.typeHasNodePorts(type), ServiceNetwork.typeHasNodePorts(oldType), (port["nodePort"]?.intValue ?? 0) == 0,
                    let previous
                {
                    port["nodePort"] = previous
                } else if !ServiceNetwork.typeHasNodePorts(type), ServiceNetwork.typeHasNodePorts(oldType), let given = port["nodePort"],
                    given == previous
                {
                    port.removeValue(forKey: "nodePort")
                }
                ports[index] = .object(port)
            }
            spec["ports"] = .array(ports)
        }
        object.json["spec"] = .object(spec)
    }

    func validate(_ object: Unstructured, info: KindInfo) throws(APIError) {
        var problems = ObjectValidator.validate(object.jsonValue, checkingSchema: false)
        problems += Self.clusterIPProblems(object)
        if !problems.isEmpty { throw .invalid(kind: info.kind, name: object.metadata.name, group: info.group, errors: problems) }
    }

    func validateUpdate(_ object: Unstructured, old: Unstructured, info: KindInfo) throws(APIError) {
        try validate(object, info: info)
        var problems: [FieldError] = []
        let type = object.json["spec"]?[path: ["type"]]?.stringValue ?? "ClusterIP"
        let oldType = old.json["spec"]?[path: ["type"]]?.stringValue ?? "ClusterIP"
        let address = object.json["spec"]?[path: ["clusterIP"]]?.stringValue ?? ""
        let oldAddress = old.json["spec"]?[path: ["clusterIP"]]?.stringValue ?? ""
        if type != "ExternalName", oldType != "ExternalName", !oldAddress.isEmpty, address != oldAddress {
            problems.append(.invalid(FieldPath("spec", "clusterIPs").index(0), .string(address), "may not change once set"))
        }
        if !problems.isEmpty { throw .invalid(kind: info.kind, name: object.metadata.name, group: info.group, errors: problems) }
    }

    /// `clusterIPs` alone sets `clusterIP`, as in Kubernetes.
    private static func fillClusterIPFromList(_ object: inout Unstructured) {
        guard var spec = object.json["spec"]?.objectValue, (spec["clusterIP"]?.stringValue ?? "").isEmpty,
            let first = spec["clusterIPs"]?.arrayValue?.first?.stringValue, !first.isEmpty
        else { return }
        spec["clusterIP"] = .string(first)
        object.json["spec"] = .object(spec)
    }

    private static func clusterIPProblems(_ object: Unstructured) -> [FieldError] {
        guard let spec = object.json["spec"]?.objectValue else { return [] }
        let type = spec["type"]?.stringValue ?? "ClusterIP"
        let address = spec["clusterIP"]?.stringValue ?? ""
        let list = spec["clusterIPs"]?.arrayValue?.compactMap(\.stringValue) ?? []
        var problems: [FieldError] = []
        if type == "ExternalName" {
            if !address.isEmpty { problems.append(.forbidden(FieldPath("spec", "clusterIP"), "may not be set for ExternalName services")) }
            return problems
        }
        if list.count > 1 {
            problems.append(
                .invalid(
                    FieldPath("spec", "clusterIPs"), .array(list.map { .string($0) }),
                    "Capstan serves a single-stack IPv4 service network: at most one ClusterIP"))
        }
        if let first = list.first, !address.isEmpty, first != address {
            problems.append(.invalid(FieldPath("spec", "clusterIPs").index(0), .string(first), "must match `spec.clusterIP`"))
        }
        if !address.isEmpty, address != "None", !IPAddress.isIPv4(address), IPAddress.isValid(address) {
            problems.append(
                .invalid(
                    FieldPath("spec", "clusterIP"), .string(address), "Capstan serves a single-stack IPv4 service network: IPv6 is not built yet"))
        }
        return problems
    }
}
