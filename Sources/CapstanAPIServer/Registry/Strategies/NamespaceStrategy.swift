import CapstanAPI
import CapstanCore
import OrderedCollections

/// The namespace lifecycle, as Kubernetes' namespace storage strategy defines it:
///
/// - A new namespace is `Active` and carries the `kubernetes` finalizer in
///   `spec.finalizers` (not `metadata.finalizers`): the namespace controller's claim.
/// - Deleting it only marks it (`deletionTimestamp`, phase `Terminating`);
///   the namespace controller deletes its contents, then removes the
///   finalizer through `namespaces/{name}/finalize`, and the namespace goes
///   once neither finalizer list holds anything.
/// - Ordinary updates cannot change `spec.finalizers`; only `finalize` can.
/// - The system namespaces cannot be deleted at all (403).
///
/// That nothing new may be created in a terminating namespace is the
/// registry's check on every namespaced kind (``ResourceRegistry/checkAcceptsNewContent(_:namespace:name:)``).
struct NamespaceStrategy: ResourceStrategy {
    static let finalizer = Namespace.kubernetesFinalizer

    var hasStatusSubresource: Bool { true }
    var writableSubresources: Set<String> { ["status", "finalize"] }

    /// Phase `Active` and the `kubernetes` finalizer, whatever the body said.
    func prepareForCreate(_ object: inout Unstructured) {
        Self.addFinalizer(to: &object)
        object.json["status"] = ["phase": "Active"]
    }

    /// An ordinary write keeps the stored `spec.finalizers`.
    func prepareForUpdate(_ object: inout Unstructured, old: Unstructured) {
        Self.setSpecFinalizers(Self.specFinalizers(of: old), on: &object)
    }

    /// `finalize` writes only `spec.finalizers`; everything else stays as stored.
    func prepareForSubresourceUpdate(_ subresource: String, _ object: inout Unstructured, old: Unstructured) {
        guard subresource == "finalize" else { return }
        var merged = old
        Self.setSpecFinalizers(Self.specFinalizers(of: object), on: &merged)
        object = merged
    }

    /// Refuses the system namespaces; otherwise the namespace turns
    /// `Terminating`. One stored before namespaces carried the finalizer gets
    /// it now, so its contents are still cleaned up.
    func prepareForDelete(_ object: inout Unstructured) throws(APIError) {
        let name = object.metadata.name
        if ResourceRegistry.undeletableNamespaces.contains(name) {
            throw ResourceRegistry.forbidden(BuiltinKinds.namespace, name: name, because: "this namespace may not be deleted")
        }
        guard object.metadata.deletionTimestamp == nil else { return }
        Self.addFinalizer(to: &object)
        var status = object.json["status"]?.objectValue ?? [:]
        status["phase"] = "Terminating"
        object.json["status"] = .object(status)
    }

    /// Finalizers in `spec.finalizers` hold a terminating namespace too.
    func holdsDeletion(_ object: Unstructured) -> Bool {
        !Self.specFinalizers(of: object).isEmpty
    }

    private static func addFinalizer(to object: inout Unstructured) {
        var finalizers = specFinalizers(of: object)
        if !finalizers.contains(finalizer) { finalizers.append(finalizer) }
        setSpecFinalizers(finalizers, on: &object)
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
