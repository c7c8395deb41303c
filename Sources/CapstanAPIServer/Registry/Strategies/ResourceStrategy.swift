package import CapstanAPI
package import CapstanCore

/// What one kind adds to the registry's generic create, update and delete, as
/// a Kubernetes `pkg/registry/<group>/<kind>/strategy.go` does. The registry
/// owns everything every kind shares (identity, resourceVersion checks, field
/// ownership, generation, finalizers, storage); a strategy says only where its
/// kind differs, and every requirement has a default that does nothing special.
///
/// Whether a kind is namespaced is not repeated here: ``KindInfo/namespaced``
/// is the one place that says it, and the registry reads it from there.
protocol ResourceStrategy: Sendable {
    /// True when the kind has a `status` subresource: a write of the object
    /// keeps the stored status, and only a status write changes it.
    var hasStatusSubresource: Bool { get }

    /// Subresources a PUT may write besides the object itself (`status`; a
    /// Namespace also `finalize`).
    var writableSubresources: Set<String> { get }

    /// True when the stored bytes are sealed, if the server has an encryption key.
    var isEncryptedAtRest: Bool { get }

    /// True when objects are written with a store lease so they expire (`--event-ttl`).
    var expires: Bool { get }

    /// True when a DELETE that removes the object answers with the object rather
    /// than a `Success` Status (Kubernetes' `ReturnDeletedObject`: pods, services,
    /// service accounts).
    var returnsDeletedObject: Bool { get }

    /// Defaults and server-set fields of a new object, after the registry has
    /// set its identity and before validation.
    func prepareForCreate(_ object: inout Unstructured)

    /// Kind-specific fields an ordinary write may not change, restored from
    /// `old`. The registry has already restored identity metadata, and keeps
    /// the status itself when ``hasStatusSubresource`` is true.
    func prepareForUpdate(_ object: inout Unstructured, old: Unstructured)

    /// A write of the `status` subresource, after the registry has kept
    /// everything but the status as stored: what the kind restores of `old`'s status.
    func prepareForStatusUpdate(_ object: inout Unstructured, old: Unstructured)

    /// A write through one of the kind's own ``writableSubresources`` other
    /// than `status`: what it may change, everything else kept from `old`.
    func prepareForSubresourceUpdate(_ subresource: String, _ object: inout Unstructured, old: Unstructured)

    /// 422 Invalid with every problem found in a new object.
    func validate(_ object: Unstructured, info: KindInfo) throws(APIError)

    /// 422 Invalid with every problem found in an object replacing `old`.
    func validateUpdate(_ object: Unstructured, old: Unstructured, info: KindInfo) throws(APIError)

    /// Refuses a write its requester may not make (403). Runs after
    /// validation, on the very stored object a write or deletion replaces, so
    /// the check and the compare-and-swap see the same revision.
    func admit(_ write: AdmissionAttributes) throws(APIError)

    /// Changes a deletion makes to the object before it is marked or removed,
    /// or 403 when this object may not be deleted at all.
    func prepareForDelete(_ object: inout Unstructured) throws(APIError)

    /// The grace period a deletion waits for, or nil to delete at once (when
    /// no finalizer holds the object). `requested` is the client's `gracePeriodSeconds`.
    func gracefulDeletionPeriod(of object: Unstructured, requested: Int64?) -> Int64?

    /// True while something other than `metadata.finalizers` holds a
    /// terminating object (a Namespace's `spec.finalizers`).
    func holdsDeletion(_ object: Unstructured) -> Bool
}

/// A write or deletion as admission sees it.
struct AdmissionAttributes {
    enum Operation { case create, update, delete }

    var operation: Operation
    var name: String
    /// The stored object the write replaces; nil on create.
    var old: JSONValue?
    /// The object as it would be stored; nil on delete.
    var new: JSONValue?
    /// The node whose credentials ask, if a node's do.
    var requestingNode: String?
}

extension ResourceStrategy {
    var hasStatusSubresource: Bool { false }
    var writableSubresources: Set<String> { ["status"] }
    var isEncryptedAtRest: Bool { false }
    var expires: Bool { false }
    var returnsDeletedObject: Bool { false }

    func prepareForCreate(_ object: inout Unstructured) {}
    func prepareForUpdate(_ object: inout Unstructured, old: Unstructured) {}
    func prepareForStatusUpdate(_ object: inout Unstructured, old: Unstructured) {}
    func prepareForSubresourceUpdate(_ subresource: String, _ object: inout Unstructured, old: Unstructured) {}

    func validate(_ object: Unstructured, info: KindInfo) throws(APIError) {
        let problems = ObjectValidator.validate(object.jsonValue, checkingSchema: false)
        if !problems.isEmpty {
            throw .invalid(kind: info.kind, name: object.metadata.name, group: info.group, errors: problems)
        }
    }

    func validateUpdate(_ object: Unstructured, old: Unstructured, info: KindInfo) throws(APIError) {
        try validate(object, info: info)
    }

    func admit(_ write: AdmissionAttributes) throws(APIError) {}
    func prepareForDelete(_ object: inout Unstructured) throws(APIError) {}
    func gracefulDeletionPeriod(of object: Unstructured, requested: Int64?) -> Int64? { nil }
    func holdsDeletion(_ object: Unstructured) -> Bool { false }
}

/// The kinds with nothing special but, perhaps, a status subresource or the deleted object as a DELETE's answer.
struct DefaultStrategy: ResourceStrategy {
    var hasStatusSubresource = false
    var returnsDeletedObject = false
}

/// The strategy of every kind, in one table: a kind not listed gets ``DefaultStrategy``.
struct ResourceStrategies: Sendable {
    private let byKind: [KindInfo: any ResourceStrategy]
    private let fallback = DefaultStrategy()

    /// - Parameter defaultTolerationSeconds: the `tolerationSeconds` new pods
    ///   get for the not-ready and unreachable NoExecute taints.
    /// - Parameter catalog: the kinds served, which say which APIServices are local.
    init(defaultTolerationSeconds: Int64 = PodDefaults.defaultTolerationSeconds, catalog: KindCatalog = KindCatalog()) {
        let withStatus = DefaultStrategy(hasStatusSubresource: true)
        byKind = [
            BuiltinKinds.pod: PodStrategy(defaultTolerationSeconds: defaultTolerationSeconds),
            BuiltinKinds.node: NodeStrategy(),
            BuiltinKinds.namespace: NamespaceStrategy(),
            BuiltinKinds.service: ServiceStrategy(),
            BuiltinKinds.secret: SecretStrategy(),
            BuiltinKinds.event: EventStrategy(),
            BuiltinKinds.eventV1: EventStrategy(),
            BuiltinKinds.deployment: WorkloadStrategy(kind: BuiltinKinds.deployment),
            BuiltinKinds.replicaSet: WorkloadStrategy(kind: BuiltinKinds.replicaSet),
            BuiltinKinds.daemonSet: WorkloadStrategy(kind: BuiltinKinds.daemonSet),
            BuiltinKinds.statefulSet: WorkloadStrategy(kind: BuiltinKinds.statefulSet),
            BuiltinKinds.job: WorkloadStrategy(kind: BuiltinKinds.job),
            BuiltinKinds.cronJob: WorkloadStrategy(kind: BuiltinKinds.cronJob),
            BuiltinKinds.replicationController: WorkloadStrategy(kind: BuiltinKinds.replicationController),
            BuiltinKinds.podTemplate: PodTemplateStrategy(),
            BuiltinKinds.apiService: APIServiceStrategy(catalog: catalog),
            BuiltinKinds.resourceQuota: withStatus,
            BuiltinKinds.customResourceDefinition: CustomResourceDefinitionStrategy(),
            BuiltinKinds.serviceAccount: DefaultStrategy(returnsDeletedObject: true),
            BuiltinKinds.roleBinding: RoleBindingStrategy(),
            BuiltinKinds.clusterRoleBinding: RoleBindingStrategy(),
        ]
    }

    subscript(_ info: KindInfo) -> any ResourceStrategy {
        byKind[info] ?? fallback
    }
}
