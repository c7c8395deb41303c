public import CapstanAPI
public import CapstanCore

/// The namespace lifecycle, as Kubernetes' namespace storage strategy and
/// `NamespaceLifecycle` admission define it:
///
/// - A new namespace is `Active` and carries the `kubernetes` finalizer in
///   `spec.finalizers` (not `metadata.finalizers`): the namespace controller's claim.
/// - Deleting it only marks it (`deletionTimestamp`, phase `Terminating`);
///   the namespace controller deletes its contents, then removes the
///   finalizer through `namespaces/{name}/finalize`, and the namespace goes
///   once neither finalizer list holds anything.
/// - Ordinary updates cannot change `spec.finalizers`; only `finalize` can.
/// - Nothing new may be created in a terminating namespace (403).
/// - The system namespaces cannot be deleted at all (403).
extension ResourceRegistry {
    static let namespaceFinalizer = Namespace.kubernetesFinalizer

    /// Namespaces that must always exist: Kubernetes' own and Capstan's.
    public static let undeletableNamespaces: Set<String> = ["default", "kube-system", "kube-public", "kube-node-lease", "capstan-system"]

    /// On create: phase `Active` and the `kubernetes` finalizer, whatever the body said.
    static func prepareNamespaceForCreate(_ object: inout Unstructured) {
        var finalizers = specFinalizers(of: object)
        if !finalizers.contains(namespaceFinalizer) { finalizers.append(namespaceFinalizer) }
        setSpecFinalizers(finalizers, on: &object)
        object.json["status"] = ["phase": "Active"]
    }

    /// On delete: refuses the system namespaces; otherwise the namespace turns
    /// `Terminating`. One stored before namespaces carried the finalizer gets
    /// it now, so its contents are still cleaned up.
    static func prepareNamespaceForDeletion(_ object: inout Unstructured) throws(APIError) {
        let name = object.metadata.name
        if undeletableNamespaces.contains(name) {
            throw forbidden(BuiltinKinds.namespace, name: name, because: "this namespace may not be deleted")
        }
        guard object.metadata.deletionTimestamp == nil else { return }
        var finalizers = specFinalizers(of: object)
        if !finalizers.contains(namespaceFinalizer) { finalizers.append(namespaceFinalizer) }
        setSpecFinalizers(finalizers, on: &object)
        var status = object.json["status"]?.objectValue ?? [:]
        status["phase"] = "Terminating"
        object.json["status"] = .object(status)
    }

    /// Whether finalizers in `spec.finalizers` still hold a namespace.
    static func isHeldBySpecFinalizers(_ object: Unstructured, _ info: KindInfo) -> Bool {
        info == BuiltinKinds.namespace && !specFinalizers(of: object).isEmpty
    }

    /// An ordinary write keeps the stored `spec.finalizers`; `finalize` writes
    /// only them (everything else stays as stored).
    static func mergeNamespaceWrite(_ next: inout Unstructured, old: Unstructured, subresource: String?) {
        if subresource == "finalize" {
            var merged = old
            setSpecFinalizers(specFinalizers(of: next), on: &merged)
            next = merged
        } else {
            setSpecFinalizers(specFinalizers(of: old), on: &next)
        }
    }

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

    private static func specFinalizers(of object: Unstructured) -> [String] {
        object.json["spec"]?["finalizers"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    private static func setSpecFinalizers(_ finalizers: [String], on object: inout Unstructured) {
        var spec = object.json["spec"]?.objectValue ?? [:]
        if finalizers.isEmpty {
            spec.removeValue(forKey: "finalizers")
        } else {
            spec["finalizers"] = .array(finalizers.map { .string($0) })
        }
        object.json["spec"] = spec.isEmpty ? nil : .object(spec)
    }
}
