import CapstanCore
import OrderedCollections

/// Services: a status subresource, and a new Service's status starts as
/// Kubernetes' does, `{loadBalancer: {}}`, which clients read without checking.
struct ServiceStrategy: ResourceStrategy {
    var hasStatusSubresource: Bool { true }

    func prepareForCreate(_ object: inout Unstructured) {
        var status = object.json["status"]?.objectValue ?? [:]
        if status["loadBalancer"] == nil { status["loadBalancer"] = .object([:]) }
        object.json["status"] = .object(status)
    }
}
