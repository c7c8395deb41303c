import CapstanAPI
import CapstanCore

/// RoleBindings and ClusterRoleBindings: a binding's `roleRef` never changes,
/// as in Kubernetes — granting a different role is deleting the binding and
/// creating another, so whoever may edit bindings cannot quietly widen one.
struct RoleBindingStrategy: ResourceStrategy {
    func validateUpdate(_ object: Unstructured, old: Unstructured, info: KindInfo) throws(APIError) {
        try validate(object, info: info)
        let roleRef = object.jsonValue["roleRef"] ?? .null
        guard roleRef == (old.jsonValue["roleRef"] ?? .null) else {
            throw .invalid(
                kind: info.kind, name: object.metadata.name, group: info.group,
                errors: [.invalid(FieldPath("roleRef"), roleRef, "cannot change roleRef")])
        }
    }
}
