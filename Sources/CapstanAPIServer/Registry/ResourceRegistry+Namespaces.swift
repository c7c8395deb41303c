package import CapstanAPI
package import CapstanCore
import OrderedCollections

/// Namespace admission every namespaced kind gets, as Kubernetes'
/// `NamespaceLifecycle` admission: nothing new may be created in a terminating
/// namespace (403). The namespace's own lifecycle is ``NamespaceStrategy``.
extension ResourceRegistry {
    /// Namespaces that must always exist: Kubernetes' own and Capstan's.
    package static let undeletableNamespaces: Set<String> = ["default", "kube-system", "kube-public", "kube-node-lease", "capstan-system"]

    /// 403 when `namespace` is being deleted: nothing new may appear in it.
    func checkAcceptsNewContent(_ info: KindInfo, namespace: String, name: String) async throws(APIError) {
        let stored = try await get(BuiltinKinds.namespace, namespace: nil, name: namespace)
        let terminating = stored[path: ["metadata", "deletionTimestamp"]] != nil || stored[path: ["status", "phase"]]?.stringValue == "Terminating"
        guard terminating else { return }
        var error = Self.forbidden(info, name: name, because: "unable to create new content in namespace \(namespace) because it is being terminated")
        error.details?["causes"] = [
            ["type": "NamespaceTerminating", "message": .string("namespace \(namespace) is being terminated"), "field": "metadata.namespace"]
        ]
        throw error
    }

    /// 403 worded as Kubernetes' admission words it: `pods "x" is forbidden: <why>`.
    static func forbidden(_ info: KindInfo, name: String, because reason: String) -> APIError {
        let resource = APIError.qualified(info.resource, info.group)
        let subject = name.isEmpty ? "\(resource) is forbidden" : "\(resource) \"\(name)\" is forbidden"
        return APIError(
            code: 403, reason: "Forbidden", message: "\(subject): \(reason)",
            details: ["name": .string(name), "group": .string(info.group), "kind": .string(info.resource)])
    }
}
