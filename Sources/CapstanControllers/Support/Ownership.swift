import CapstanAPI
import CapstanClient
import CapstanCore

/// Controller references: which controller owns an object, and claiming —
/// adopting orphans a selector matches and releasing owned objects it no
/// longer matches — as Kubernetes' `ControllerRefManager` does.
enum Ownership {
    /// The owner reference with `controller: true`, if any.
    static func controllerRef(of meta: ObjectMeta) -> OwnerReference? {
        meta.ownerReferences.first { $0.controller }
    }

    /// A controller reference pointing at `owner`, by the kind it says it is
    /// (a ReplicationController seen as a ReplicaSet stays a
    /// ReplicationController), else by its Swift type's kind.
    static func reference(to owner: some TypedObject) -> OwnerReference {
        let typed = type(of: owner).reference(name: owner.metadata.name, uid: owner.metadata.uid ?? "")
        guard !owner.kind.isEmpty, !owner.apiVersion.isEmpty else { return typed }
        return OwnerReference(apiVersion: owner.apiVersion, kind: owner.kind, name: typed.name, uid: typed.uid, controller: true)
    }

    enum Decision: Equatable {
        /// Ours and still matching.
        case owned
        /// An orphan the selector matches: take it.
        case adopt
        /// Ours but no longer matching: let go.
        case release
        /// Someone else's, or not matching.
        case ignore
    }

    static func decide(_ meta: ObjectMeta, ownerUID: String, ownerDeleting: Bool, selector: LabelSelector) -> Decision {
        let matches = !selector.selectsEverything && selector.matches(meta.labels)
        if let ref = controllerRef(of: meta) {
            guard ref.uid == ownerUID else { return .ignore }
            if matches { return .owned }
            return ownerDeleting ? .owned : .release
        }
        guard matches, !ownerDeleting, meta.deletionTimestamp == nil else { return .ignore }
        return .adopt
    }

    /// The candidates `owner` controls after adopting and releasing, written
    /// through `client`. An object that vanished meanwhile is skipped; a
    /// conflicting write throws (the pass is retried on fresh state).
    static func claim<Object: TypedObject>(
        _ candidates: [Object], owner: some TypedObject, selector: LabelSelector, client: any ClusterClient, options: WriteOptions
    ) async throws -> [Object] {
        let ownerUID = owner.metadata.uid ?? ""
        let deleting = owner.metadata.deletionTimestamp != nil
        var claimed: [Object] = []
        for candidate in candidates {
            var object = candidate
            switch decide(object.metadata, ownerUID: ownerUID, ownerDeleting: deleting, selector: selector) {
            case .owned:
                claimed.append(object)
            case .ignore:
                continue
            case .adopt:
                object.metadata.ownerReferences.append(reference(to: owner))
                if let written = try await write(object, client: client, options: options) { claimed.append(written) }
            case .release:
                object.metadata.ownerReferences.removeAll { $0.uid == ownerUID }
                _ = try await write(object, client: client, options: options)
            }
        }
        return claimed
    }

    /// Writes `object` at the resourceVersion it was read at; nil when it is gone.
    private static func write<Object: TypedObject>(_ object: Object, client: any ClusterClient, options: WriteOptions) async throws -> Object? {
        do {
            let value = try await client.update(
                Object.kindInfo, namespace: object.metadata.namespace, name: object.metadata.name, object: object.jsonValue, options: options)
            return Object(jsonValue: value)
        } catch let error as APIError {
            if error.code == 404 { return nil }
            throw error
        }
    }
}

extension TypedObject {
    static func reference(name: String, uid: String) -> OwnerReference {
        OwnerReference(apiVersion: kindInfo.apiVersion, kind: kindInfo.kind, name: name, uid: uid, controller: true)
    }
}

/// Reading typed objects live through a client: controllers re-read what they
/// act on at the start of every pass, so their own earlier writes are always seen.
extension ClusterClient {
    /// The object, or nil when it does not exist.
    func fetch<Object: TypedObject>(_ type: Object.Type, _ key: ObjectKey) async throws -> Object? {
        do {
            return try await get(type, namespace: key.namespace, name: key.name)
        } catch let error as APIError {
            if error.code == 404 { return nil }
            throw error
        }
    }

    func listAll<Object: TypedObject>(_ type: Object.Type, namespace: String?) async throws -> [Object] {
        try await list(Object.kindInfo, namespace: namespace, options: ListOptions()).items.compactMap { Object(jsonValue: $0) }
    }

    /// Deletes, treating "already gone" as done.
    func deleteIfPresent(_ kind: KindInfo, namespace: String?, name: String, uid: String?) async throws {
        do {
            _ = try await delete(kind, namespace: namespace, name: name, options: DeleteOptions(preconditionUID: uid))
        } catch let error as APIError {
            if error.code == 404 { return }
            throw error
        }
    }
}
