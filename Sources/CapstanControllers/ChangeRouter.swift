import CapstanClient
import CapstanCore

/// One kind the controllers cache, seen by metadata only (what the garbage collector needs).
struct TrackedKind: Sendable {
    let kind: KindInfo
    let lookup: @Sendable (ObjectKey) -> ObjectMeta?
    let all: @Sendable () -> [ObjectMeta]

    init<Object: KubernetesObjectView>(_ informer: Informer<Object>, kind: KindInfo) {
        self.kind = kind
        self.lookup = { informer.get($0)?.metadata }
        self.all = { informer.list().map(\.metadata) }
    }
}

/// Decides which controller keys a change concerns, from the informer caches.
struct ChangeRouter: Sendable {
    let replicaSets: Informer<ReplicaSet>
    let deployments: Informer<Deployment>
    let replicationControllers: Informer<ReplicationController>
    let tracked: [TrackedKind]

    func replicaSets(for change: InformerChange<Pod>) -> Set<ObjectKey> {
        switch change {
        case .added(let pod), .deleted(let pod): owners(of: pod.metadata, kind: "ReplicaSet", in: replicaSets, selector: \.spec.selector)
        case .updated(let old, let new):
            owners(of: old.metadata, kind: "ReplicaSet", in: replicaSets, selector: \.spec.selector)
                .union(owners(of: new.metadata, kind: "ReplicaSet", in: replicaSets, selector: \.spec.selector))
        }
    }

    func replicationControllers(for change: InformerChange<Pod>) -> Set<ObjectKey> {
        let kind = BuiltinKinds.replicationController.kind
        switch change {
        case .added(let pod), .deleted(let pod): return owners(of: pod.metadata, kind: kind, in: replicationControllers, selector: \.podSelector)
        case .updated(let old, let new):
            return owners(of: old.metadata, kind: kind, in: replicationControllers, selector: \.podSelector)
                .union(owners(of: new.metadata, kind: kind, in: replicationControllers, selector: \.podSelector))
        }
    }

    func deployments(for change: InformerChange<ReplicaSet>) -> Set<ObjectKey> {
        switch change {
        case .added(let rs), .deleted(let rs): owners(of: rs.metadata, kind: "Deployment", in: deployments, selector: \.spec.selector)
        case .updated(let old, let new):
            owners(of: old.metadata, kind: "Deployment", in: deployments, selector: \.spec.selector)
                .union(owners(of: new.metadata, kind: "Deployment", in: deployments, selector: \.spec.selector))
        }
    }

    /// The Deployment whose ReplicaSet owned a deleted pod.
    func deployments(forDeletedPod pod: Pod) -> Set<ObjectKey> {
        guard let ref = Ownership.controllerRef(of: pod.metadata), ref.kind == "ReplicaSet",
            let rs = replicaSets.get(ObjectKey(namespace: pod.metadata.namespace, name: ref.name)),
            let owner = Ownership.controllerRef(of: rs.metadata), owner.kind == "Deployment"
        else { return [] }
        return [ObjectKey(namespace: pod.metadata.namespace, name: owner.name)]
    }

    /// The controller named by the object's controller reference, or — for an
    /// orphan — every controller of that kind whose selector matches it.
    private func owners<Owner: KubernetesObjectView>(
        of meta: ObjectMeta, kind: String, in informer: Informer<Owner>, selector: KeyPath<Owner, LabelSelectorSpec>
    ) -> Set<ObjectKey> {
        if let ref = Ownership.controllerRef(of: meta) {
            return ref.kind == kind ? [ObjectKey(namespace: meta.namespace, name: ref.name)] : []
        }
        let labels = meta.labels
        return Set(
            informer.list().filter { owner in
                guard owner.metadata.namespace == meta.namespace, let parsed = owner[keyPath: selector].selector, !parsed.selectsEverything else {
                    return false
                }
                return parsed.matches(labels)
            }.map(ObjectKey.init))
    }

    // MARK: Garbage collection

    func collectorItems<Object: KubernetesObjectView>(for change: InformerChange<Object>, kind: KindInfo) -> [GarbageCollector.Item] {
        switch change {
        case .deleted(let object):
            // Its dependents may be orphans now.
            guard let uid = object.metadata.uid else { return [] }
            return dependents(of: uid)
        case .added(let object), .updated(_, let object):
            let meta = object.metadata
            var items: [GarbageCollector.Item] = []
            if meta.deletionTimestamp != nil,
                meta.finalizers.contains(GarbageCollector.orphanFinalizer) || meta.finalizers.contains(GarbageCollector.foregroundFinalizer)
            {
                items.append(.owner(kind, ObjectKey(object)))
            }
            if hasOwnerMissingFromCache(meta, isNew: { if case .added = change { true } else { false } }()) {
                items.append(.dependent(kind, ObjectKey(object)))
            }
            return items
        }
    }

    /// Every cached object with owner references: the periodic full check.
    func everyDependent() -> [GarbageCollector.Item] {
        tracked.flatMap { kind in
            kind.all().filter { !$0.ownerReferences.isEmpty }.map {
                GarbageCollector.Item.dependent(kind.kind, ObjectKey(namespace: $0.namespace, name: $0.name))
            }
        }
    }

    private func dependents(of uid: String) -> [GarbageCollector.Item] {
        tracked.flatMap { kind in
            kind.all().filter { $0.ownerReferences.contains { $0.uid == uid } }
                .map { GarbageCollector.Item.dependent(kind.kind, ObjectKey(namespace: $0.namespace, name: $0.name)) }
        }
    }

    /// Whether an owner may be gone: not in the cache of its kind with that
    /// uid. Owners of kinds not cached here are checked once, when the dependent appears.
    private func hasOwnerMissingFromCache(_ meta: ObjectMeta, isNew: Bool) -> Bool {
        meta.ownerReferences.contains { ref in
            guard let cache = tracked.first(where: { $0.kind.kind == ref.kind && $0.kind.apiVersion == ref.apiVersion }) else { return isNew }
            let namespace = cache.kind.namespaced ? meta.namespace : nil
            return cache.lookup(ObjectKey(namespace: namespace, name: ref.name))?.uid != ref.uid
        }
    }
}
