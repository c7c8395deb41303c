import CapstanCore
import OrderedCollections

/// Services: a status subresource, Kubernetes' defaults on every create and
/// update (``KubernetesDefaults``: type, session affinity, port protocols and
/// target ports, traffic policies), and a new Service's status starts as
/// Kubernetes' does, `{loadBalancer: {}}`, which clients read without checking.
struct ServiceStrategy: ResourceStrategy {
    var hasStatusSubresource: Bool { true }
    var returnsDeletedObject: Bool { true }

    func prepareForCreate(_ object: inout Unstructured) {
        KubernetesDefaults.apply(to: &object.json, kind: BuiltinKinds.service)
        var status = object.json["status"]?.objectValue ?? [:]
        if status["loadBalancer"] == nil { status["loadBalancer"] = .object([:]) }
        object.json["status"] = .object(status)
    }

    func prepareForUpdate(_ object: inout Unstructured, old: Unstructured) {
        KubernetesDefaults.apply(to: &object.json, kind: BuiltinKinds.service)
    }
}
