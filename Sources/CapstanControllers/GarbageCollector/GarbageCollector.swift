import CapstanAPI
import CapstanClient
import CapstanCore
import Logging
import OrderedCollections

/// Deletes objects whose owners are gone, and finishes the deletion of
/// owners that asked to orphan or to wait for their dependents.
///
/// - A dependent every owner reference of which points at a missing object
///   (by uid: a new object with the old name is not the owner; the owner may
///   be of a custom kind, looked up among the kinds served) is deleted in
///   the background; its own dependents follow when their turn comes. One
///   with some owners left only loses the dangling references.
/// - An owner being deleted with the `orphan` finalizer has its references
///   removed from every dependent, then the finalizer removed (the registry
///   then deletes it). With `foregroundDeletion` its dependents are deleted
///   first and the finalizer removed once none is left.
///
/// The registry's DELETE marks an object with finalizers instead of removing
/// it and removes it when the last finalizer goes; that is what these two
/// finalizers rely on. Absence is always confirmed with a live read, never
/// from a cache alone.
struct GarbageCollector: Sendable {
    static let fieldManager = "garbage-collector"
    static let orphanFinalizer = "orphan"
    static let foregroundFinalizer = "foregroundDeletion"

    /// One unit of work.
    enum Item: Hashable, Sendable {
        /// Check the owners of this object.
        case dependent(KindInfo, ObjectKey)
        /// Finish an owner's orphan or foreground deletion.
        case owner(KindInfo, ObjectKey)
    }

    let client: any ClusterClient
    /// The kinds whose objects can be dependents (listed to find an owner's dependents).
    let dependentKinds: [KindInfo]
    let logger: Logger

    var options: WriteOptions { WriteOptions(fieldManager: Self.fieldManager) }

    /// Processes one item; `.requeueAfter` while a foreground deletion waits for its dependents.
    func process(_ item: Item) async throws -> ReconcileResult {
        switch item {
        case .dependent(let kind, let key): try await checkOwners(kind, key)
        case .owner(let kind, let key): try await finishOwnerDeletion(kind, key)
        }
    }

    private func checkOwners(_ kind: KindInfo, _ key: ObjectKey) async throws -> ReconcileResult {
        guard let object = try await fetch(kind, key) else { return .done }
        let references = object.metadata.ownerReferences
        guard !references.isEmpty, object.metadata.deletionTimestamp == nil else { return .done }
        var dangling: Set<String> = []
        for reference in references {
            if try await isMissing(reference, namespace: key.namespace) { dangling.insert(reference.uid) }
        }
        guard !dangling.isEmpty else { return .done }
        if dangling.count == references.count {
            logger.debug("deleting an object whose owners are gone", metadata: ["object": "\(kind.resource)/\(key)"])
            try await client.deleteIfPresent(kind, namespace: key.namespace, name: key.name, uid: object.metadata.uid)
        } else {
            try await removeReferences(from: object, kind: kind) { dangling.contains($0.uid) }
        }
        return .done
    }

    private func finishOwnerDeletion(_ kind: KindInfo, _ key: ObjectKey) async throws -> ReconcileResult {
        guard let owner = try await fetch(kind, key), owner.metadata.deletionTimestamp != nil, let uid = owner.metadata.uid else { return .done }
        let finalizers = owner.metadata.finalizers
        if finalizers.contains(Self.orphanFinalizer) {
            for (dependentKind, dependent) in try await dependents(of: uid, namespace: owner.metadata.namespace) {
                try await removeReferences(from: dependent, kind: dependentKind) { $0.uid == uid }
            }
            try await removeFinalizer(Self.orphanFinalizer, from: owner, kind: kind)
            return .done
        }
        if finalizers.contains(Self.foregroundFinalizer) {
            let remaining = try await dependents(of: uid, namespace: owner.metadata.namespace)
            for (dependentKind, dependent) in remaining where dependent.metadata.deletionTimestamp == nil {
                try await client.deleteIfPresent(
                    dependentKind, namespace: dependent.metadata.namespace, name: dependent.metadata.name, uid: dependent.metadata.uid)
            }
            // Look again: dependents that could go at once are gone; others (pods on a node) are terminating.
            if try await dependents(of: uid, namespace: owner.metadata.namespace).isEmpty {
                try await removeFinalizer(Self.foregroundFinalizer, from: owner, kind: kind)
                return .done
            }
            return .requeueAfter(.milliseconds(500))
        }
        return .done
    }

    // MARK: Helpers

    /// Whether the owner a reference names no longer exists (or is a different object now).
    /// An owner of a custom kind is looked up among the kinds served now; kinds
    /// Capstan does not serve are never taken for missing.
    private func isMissing(_ reference: OwnerReference, namespace: String?) async throws -> Bool {
        var kind = BuiltinKinds.lookup(apiVersion: reference.apiVersion, kind: reference.kind)
        if kind == nil {
            kind = try await client.servedKinds().first { $0.apiVersion == reference.apiVersion && $0.kind == reference.kind }
        }
        guard let kind else { return false }
        guard let owner = try await fetch(kind, ObjectKey(namespace: kind.namespaced ? namespace : nil, name: reference.name)) else { return true }
        return owner.metadata.uid != reference.uid
    }

    /// Objects of the dependent kinds with an owner reference to `uid`.
    private func dependents(of uid: String, namespace: String?) async throws -> [(KindInfo, Unstructured)] {
        var found: [(KindInfo, Unstructured)] = []
        for kind in dependentKinds {
            let items = try await client.list(kind, namespace: kind.namespaced ? namespace : nil, options: ListOptions()).items
            for item in items {
                guard let object = Unstructured(jsonValue: item), object.metadata.ownerReferences.contains(where: { $0.uid == uid }) else { continue }
                found.append((kind, object))
            }
        }
        return found
    }

    private func removeReferences(from object: Unstructured, kind: KindInfo, where shouldRemove: (OwnerReference) -> Bool) async throws {
        var updated = object
        var meta = updated.metadata
        meta.ownerReferences.removeAll(where: shouldRemove)
        guard meta.ownerReferences.count != object.metadata.ownerReferences.count else { return }
        if meta.ownerReferences.isEmpty { meta.json.removeValue(forKey: "ownerReferences") }
        updated.metadata = meta
        try await update(updated, kind: kind)
    }

    private func removeFinalizer(_ finalizer: String, from object: Unstructured, kind: KindInfo) async throws {
        var updated = object
        var meta = updated.metadata
        meta.finalizers.removeAll { $0 == finalizer }
        updated.metadata = meta
        try await update(updated, kind: kind)
    }

    /// Writes at the read resourceVersion; gone is fine, a conflict retries the item.
    private func update(_ object: Unstructured, kind: KindInfo) async throws {
        do {
            _ = try await client.update(
                kind, namespace: object.metadata.namespace, name: object.metadata.name, object: object.jsonValue, options: options)
        } catch let error as APIError {
            if error.code == 404 { return }
            throw error
        }
    }

    private func fetch(_ kind: KindInfo, _ key: ObjectKey) async throws -> Unstructured? {
        do {
            return Unstructured(jsonValue: try await client.get(kind, namespace: key.namespace, name: key.name))
        } catch let error as APIError {
            if error.code == 404 { return nil }
            throw error
        }
    }
}
