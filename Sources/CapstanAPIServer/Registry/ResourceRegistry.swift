package import CapstanAPI
package import CapstanCore
package import CapstanPolicy
package import CapstanStore
package import Foundation
import OrderedCollections

/// The one path every read and write of cluster state takes, from HTTP or in
/// process: defaulting, validation, resourceVersion checks, field ownership
/// and storage encoding live here and nowhere else.
package struct ResourceRegistry: Sendable {
    let store: any Store
    let now: @Sendable () -> Date
    /// Seals Secrets before they reach the store; nil stores them as plain JSON.
    let encryption: SecretEncryption?
    /// Store latency is recorded here (`capstan_store_request_duration_seconds`).
    let metrics: APIMetrics
    /// Leases Events are written with so they expire; nil keeps them forever.
    let eventLeases: EventLeases?
    /// What each kind adds to create, update and delete.
    let strategies: ResourceStrategies
    /// Capstan's policies, checked on creates and updates (Admission/PolicyAdmission.swift).
    let policyAdmission: PolicyAdmission
    /// The kinds served now, custom ones included (CustomResources/).
    package let catalog: KindCatalog
    /// Whether new pods get a service-account token volume (Admission/ServiceAccountAdmission.swift):
    /// on in an API server, which can sign the tokens; off for a bare registry in unit tests.
    let mountsServiceAccountTokens: Bool
    /// The ranges Services' ClusterIPs and NodePorts come from (Allocation/).
    package let serviceNetwork: ServiceNetwork

    /// - Parameters:
    ///   - eventTTLSeconds: how long an Event outlives its last update (0: forever), as kube-apiserver's `--event-ttl`.
    ///   - defaultTolerationSeconds: how long new pods tolerate a not-ready or unreachable node, as
    ///     kube-apiserver's `--default-not-ready-toleration-seconds` and `--default-unreachable-toleration-seconds`.
    ///   - admissionPolicies: what creates and updates are checked against (none: no policy admission).
    ///   - mountsServiceAccountTokens: see ``mountsServiceAccountTokens``.
    package init(
        store: any Store, now: @escaping @Sendable () -> Date = Date.init, encryption: SecretEncryption? = nil, metrics: APIMetrics = APIMetrics(),
        eventTTLSeconds: Int64 = 3600, defaultTolerationSeconds: Int64 = PodDefaults.defaultTolerationSeconds, admissionPolicies: [Policy] = [],
        catalog: KindCatalog = KindCatalog(), mountsServiceAccountTokens: Bool = false, serviceNetwork: ServiceNetwork = .standard
    ) {
        self.catalog = catalog
        self.serviceNetwork = serviceNetwork
        self.mountsServiceAccountTokens = mountsServiceAccountTokens
        self.store = store
        self.now = now
        self.encryption = encryption
        self.metrics = metrics
        self.eventLeases = eventTTLSeconds > 0 ? EventLeases(store: store, ttlSeconds: eventTTLSeconds) : nil
        self.strategies = ResourceStrategies(defaultTolerationSeconds: defaultTolerationSeconds, catalog: catalog)
        self.policyAdmission = PolicyAdmission(policies: admissionPolicies)
    }

    // MARK: Reading

    package func get(_ info: KindInfo, namespace: String?, name: String) async throws(APIError) -> JSONValue {
        let result = try await range(RangeRequest(.single(StorageKeys.key(info, namespace: namespace, name: name))))
        guard let kv = result.kvs.first else { throw .notFound(info.resource, name, group: info.group) }
        return try await served(info, [try decode(kv)])[0]
    }

    package func list(_ info: KindInfo, namespace: String?, options: ListOptions) async throws(APIError) -> ObjectList {
        try options.fieldSelector.validate(for: info)
        let prefix = StorageKeys.prefix(info, namespace: namespace)
        var start = Data(prefix.utf8)
        var revision: Revision = 0
        if let token = options.continueToken, !token.isEmpty {
            let decoded = try ContinueToken(token)
            revision = decoded.revision
            start = decoded.startKey
        } else if options.resourceVersionMatch == "Exact", let exact = Revision(options.resourceVersion) {
            revision = exact
        }
        let end = KeyRange.prefixEnd(of: Data(prefix.utf8))
        var items: [JSONValue] = []
        var next: Data? = start
        var readAt: Revision = revision
        // Filtering happens after reading, so read pages until the limit is met.
        while let from = next {
            let page = try await range(
                RangeRequest(KeyRange(key: from, rangeEnd: end), revision: readAt, limit: options.limit > 0 ? Int64(options.limit * 2 + 10) : 0))
            if readAt == 0 { readAt = page.headerRevision }
            next = nil
            for (index, kv) in page.kvs.enumerated() {
                let object = try decode(kv)
                if matches(object, options) { items.append(object) }
                if options.limit > 0, items.count == options.limit {
                    let remaining = index < page.kvs.count - 1 || page.more
                    let token = remaining ? ContinueToken(revision: readAt, startKey: kv.key + Data([0])).encoded : nil
                    return ObjectList(items: try await served(info, items), resourceVersion: String(readAt), continueToken: token)
                }
            }
            if page.more, let last = page.kvs.last { next = last.key + Data([0]) }
        }
        return ObjectList(items: try await served(info, items), resourceVersion: String(readAt), continueToken: nil)
    }

    func matches(_ object: JSONValue, _ options: ListOptions) -> Bool {
        let labels = Unstructured(jsonValue: object)?.metadata.labels ?? [:]
        return options.labelSelector.matches(labels) && options.fieldSelector.matches(object)
    }

    // MARK: Writing

    package func create(_ info: KindInfo, namespace: String?, object: JSONValue, options: WriteOptions) async throws(APIError) -> JSONValue {
        try await create(info, namespace: namespace, object: object, options: options, recordManagers: true)
    }

    /// - Parameter recordManagers: false when `object` already carries the
    ///   managedFields of a server-side apply, which a create must keep as an
    ///   `Apply` entry rather than take over as an `Update`.
    private func create(
        _ info: KindInfo, namespace: String?, object: JSONValue, options: WriteOptions, recordManagers: Bool
    ) async throws(APIError) -> JSONValue {
        guard case .object = object else { throw .badRequest("the request body must be a JSON object") }
        let strategy = strategy(info)
        var meta = Unstructured(jsonValue: try decoded(object, info, old: nil, options))!
        try checkTypeMeta(meta, info)
        let namespace = try resolveNamespace(info, path: namespace, body: meta.metadata.namespace)
        if info.namespaced, let namespace, !Self.builtinNamespaces.contains(namespace) {
            try await checkAcceptsNewContent(info, namespace: namespace, name: meta.metadata.name)
        }
        var metadata = meta.metadata
        if metadata.name.isEmpty, let prefix = metadata.generateName, !prefix.isEmpty {
            metadata.name = prefix + Self.randomSuffix()
        }
        if info.namespaced { metadata.namespace = namespace }
        metadata.uid = UUID().uuidString.lowercased()
        metadata.creationTimestamp = timestamp()
        metadata.resourceVersion = nil
        metadata.json.removeValue(forKey: "deletionTimestamp")
        if meta.json["spec"] != nil { metadata.generation = 1 }
        meta.metadata = metadata
        meta.apiVersion = info.apiVersion
        meta.kind = info.kind
        if info == BuiltinKinds.pod, let namespace {
            if mountsServiceAccountTokens { try await admitServiceAccount(&meta, namespace: namespace) }
            try await admitLimitRanges(&meta, namespace: namespace)
        }
        strategy.prepareForCreate(&meta)
        try strategy.validate(meta, info: info)
        var stored = meta.jsonValue
        try strategy.admit(AdmissionAttributes(operation: .create, name: metadata.name, new: stored, requestingNode: options.requestingNode))
        if !options.policyAdmissionExempt { try policyAdmission.admit(stored, old: nil) }
        if info.namespaced, let namespace { try await checkQuotas(info, namespace: namespace, object: stored) }
        if recordManagers {
            do {
                stored = try ServerSideApply.recordUpdate(from: nil, to: stored, manager: options.fieldManager, time: timestamp())
            } catch {
                throw .internalError("\(error)")
            }
        }
        let key = StorageKeys.key(info, namespace: namespace, name: metadata.name)
        let lease = try await lease(for: strategy)
        // A Service's addresses join its transaction; when another writer took one of
        // them first, the transaction fails and the Service chooses again.
        for _ in 0..<20 {
            var object = stored
            let allocation = info == BuiltinKinds.service ? try await allocateServiceAddresses(&object, old: nil) : ServiceAllocationChanges()
            if options.dryRun { return object }
            let result = try await txn(
                TxnRequest(
                    compare: [Compare(key: key, .createRevision(0), .equal)] + allocation.compares,
                    success: [.put(PutRequest(key: key, value: try encode(object, info, strategy, key: key), lease: lease))] + allocation.operations),
                lease: lease)
            if result.succeeded { return withResourceVersion(object, result.revision) }
            if allocation.compares.isEmpty { throw .alreadyExists(info.resource, metadata.name, group: info.group) }
            if (try? await read(info, namespace: namespace, name: metadata.name)) != nil {
                throw .alreadyExists(info.resource, metadata.name, group: info.group)
            }
        }
        throw .internalError("failed to allocate the Service's addresses: other writers took every one chosen; try again")
    }

    /// What `info` adds to the generic create, update and delete: its
    /// definition's for a custom kind, the built-in table's otherwise.
    func strategy(_ info: KindInfo) -> any ResourceStrategy {
        if let custom = catalog.custom(info) { return CustomResourceStrategy(custom: custom) }
        return strategies[info]
    }

    /// Whether a PUT may write `subresource` of this kind (nil: the object
    /// itself): `status`, and the kind's own (a Namespace's `finalize`).
    func acceptsWrite(_ info: KindInfo, subresource: String?) -> Bool {
        guard let subresource else { return true }
        return strategy(info).writableSubresources.contains(subresource)
    }

    /// Replaces an object. A resourceVersion in the body must match the stored one.
    package func update(_ info: KindInfo, namespace: String?, name: String, object: JSONValue, options: WriteOptions, subresource: String? = nil)
        async throws(APIError) -> JSONValue
    {
        guard case .object = object else { throw .badRequest("the request body must be a JSON object") }
        let (current, revision) = try await read(info, namespace: namespace, name: name)
        let body = Unstructured(jsonValue: object)!
        try checkTypeMeta(body, info)
        if !body.metadata.name.isEmpty, body.metadata.name != name {
            throw .badRequest("the name of the object (\(body.metadata.name)) does not match the name on the URL (\(name))")
        }
        if let expected = body.metadata.resourceVersion, !expected.isEmpty, expected != String(revision) {
            throw .conflict(info.resource, name, group: info.group)
        }
        return try await write(
            info, namespace: namespace, name: name, current: current, revision: revision, proposed: object, options: options, subresource: subresource
        )
    }

    /// Reads, transforms and writes back, retrying when someone else wrote in between.
    package func patch(
        _ info: KindInfo, namespace: String?, name: String, options: WriteOptions, subresource: String? = nil,
        createIfMissing: Bool = false, _ transform: (JSONValue?) throws -> JSONValue
    ) async throws(APIError) -> (object: JSONValue, created: Bool) {
        func run(_ current: JSONValue?) throws(APIError) -> JSONValue {
            do {
                return try transform(current)
            } catch let error as APIError {
                throw error
            } catch {
                throw .internalError("\(error)")
            }
        }
        for _ in 0..<5 {
            let existing: (JSONValue, Revision)?
            do {
                existing = try await read(info, namespace: namespace, name: name)
            } catch  where error.code == 404 && createIfMissing {
                existing = nil
            }
            guard let (current, revision) = existing else {
                var created = try run(nil)
                created[path: ["metadata", "name"]] = .string(name)
                do {
                    return (try await create(info, namespace: namespace, object: created, options: options, recordManagers: false), true)
                } catch  where error.reason == "AlreadyExists" {
                    continue
                }
            }
            let proposed = try run(current)
            do {
                return (
                    try await write(
                        info, namespace: namespace, name: name, current: current, revision: revision, proposed: proposed, options: options,
                        subresource: subresource, recordManagers: false), false
                )
            } catch  where error.reason == "Conflict" {
                continue
            }
        }
        throw .conflict(info.resource, name, group: info.group)
    }

    /// Server-side apply of `configuration` (the fields a manager wants set)
    /// by `options.fieldManager`: creates the object when missing, reports
    /// conflicts with other managers as 409 unless `force` takes the fields.
    /// The HTTP apply-patch and in-process appliers (the GitOps engine) both
    /// come through here, so they get the same checks.
    ///
    /// An apply to a subresource (`status`) never creates the object: it is
    /// 404 when the object is missing, as in Kubernetes, so a writer allowed
    /// only a status cannot bring a whole object into being through it.
    package func apply(
        _ info: KindInfo, namespace: String?, name: String, configuration: JSONValue, options: WriteOptions, force: Bool,
        subresource: String? = nil
    ) async throws(APIError) -> (object: JSONValue, created: Bool) {
        let time = timestamp()
        // The configuration is decoded first, as Kubernetes does: an unknown
        // field is named as such, not reported as a conflict over what it sits in.
        let configuration = try decoded(configuration, info, old: nil, options)
        return try await patch(
            info, namespace: namespace, name: name, options: options, subresource: subresource, createIfMissing: subresource == nil
        ) {
            (current: JSONValue?) throws -> JSONValue in
            var desired = configuration
            if desired[path: ["metadata", "name"]] == nil { desired[path: ["metadata", "name"]] = .string(name) }
            do {
                return try ServerSideApply.apply(desired, to: current, manager: options.fieldManager, force: force, time: time)
            } catch let conflict as ServerSideApply.ConflictError {
                throw APIError.applyConflict(conflict)
            } catch {
                throw APIError.badRequest("\(error)")
            }
        }
    }

    private func write(
        _ info: KindInfo, namespace: String?, name: String, current: JSONValue, revision: Revision, proposed: JSONValue,
        options: WriteOptions, subresource: String?, recordManagers: Bool = true
    ) async throws(APIError) -> JSONValue {
        let strategy = strategy(info)
        var next = Unstructured(jsonValue: try decoded(proposed, info, old: current, options))!
        let old = Unstructured(jsonValue: current)!
        next.apiVersion = info.apiVersion
        next.kind = info.kind
        // Identity and server-owned metadata cannot be changed by writers.
        var metadata = next.metadata
        metadata.name = name
        if info.namespaced { metadata.namespace = old.metadata.namespace }
        metadata.uid = old.metadata.uid
        metadata.creationTimestamp = old.metadata.creationTimestamp
        metadata.resourceVersion = nil
        if let deletion = old.metadata.deletionTimestamp {
            metadata.deletionTimestamp = deletion
        } else {
            metadata.json.removeValue(forKey: "deletionTimestamp")
        }
        // Status and spec are written through their own endpoints: a status
        // write keeps everything else as stored, a spec write keeps the status.
        if subresource == "status" {
            var merged = old
            merged.json["status"] = next.json["status"]
            merged.metadata = old.metadata
            next = merged
            strategy.prepareForStatusUpdate(&next, old: old)
        } else if let subresource, strategy.writableSubresources.contains(subresource) {
            strategy.prepareForSubresourceUpdate(subresource, &next, old: old)
        } else {
            next.metadata = metadata
            strategy.prepareForUpdate(&next, old: old)
            if strategy.hasStatusSubresource { next.json["status"] = old.json["status"] }
            let specChanged = next.json["spec"] != old.json["spec"]
            next.metadata.generation = (old.metadata.generation ?? 0) + (specChanged ? 1 : 0)
            if next.json["spec"] == nil { next.metadata.generation = old.metadata.generation }
        }
        try strategy.validateUpdate(next, old: old, info: info)
        var stored = next.jsonValue
        try strategy.admit(AdmissionAttributes(operation: .update, name: name, old: current, new: stored, requestingNode: options.requestingNode))
        // A subresource write (status, a namespace's finalize) keeps the spec policies are about.
        if !options.policyAdmissionExempt, subresource == nil { try policyAdmission.admit(stored, old: current) }
        if recordManagers {
            do {
                stored = try ServerSideApply.recordUpdate(
                    from: current, to: stored, manager: options.fieldManager, time: timestamp(), subresource: subresource)
            } catch {
                throw .internalError("\(error)")
            }
        }
        // A terminating object whose last finalizer went away is gone — unless a grace
        // period runs: a pod's node still stops its containers, and its status writes
        // meanwhile must not delete it (Kubernetes' ShouldDeleteDuringUpdate).
        if next.metadata.deletionTimestamp != nil, next.metadata.finalizers.isEmpty, (next.metadata.deletionGracePeriodSeconds ?? 0) == 0,
            !strategy.holdsDeletion(next)
        {
            if options.dryRun { return stored }
            _ = try await deleteNow(info, namespace: namespace, name: name, revision: revision, releasing: current)
            return withResourceVersion(stored, revision)
        }
        let allocation = info == BuiltinKinds.service ? try await allocateServiceAddresses(&stored, old: current) : ServiceAllocationChanges()
        if stored == withoutResourceVersion(current) { return current }  // nothing changed: no new revision
        if options.dryRun { return stored }
        let key = StorageKeys.key(info, namespace: namespace, name: name)
        let lease = try await lease(for: strategy)
        let result = try await txn(
            TxnRequest(
                compare: [Compare(key: key, .modRevision(revision), .equal)] + allocation.compares,
                success: [.put(PutRequest(key: key, value: try encode(stored, info, strategy, key: key), lease: lease))] + allocation.operations),
            lease: lease)
        // A failed compare on an allocation is someone else's write too: the caller reads again.
        guard result.succeeded else { throw .conflict(info.resource, name, group: info.group) }
        return withResourceVersion(stored, result.revision)
    }

    // MARK: Deleting

    /// How deleting an owner treats its dependents (`propagationPolicy`).
    package enum PropagationPolicy: String, Sendable {
        /// The owner goes now; the garbage collector deletes the dependents after it.
        case background = "Background"
        /// The owner stays (with the `foregroundDeletion` finalizer) until its dependents are gone.
        case foreground = "Foreground"
        /// The owner goes (after the `orphan` finalizer is handled); dependents stay, without the reference.
        case orphan = "Orphan"

        /// The finalizer the garbage collector acts on, as in Kubernetes.
        var finalizer: String? {
            switch self {
            case .background: nil
            case .foreground: "foregroundDeletion"
            case .orphan: "orphan"
            }
        }
    }

    /// - Parameter requestingNode: the node whose credentials ask, if a node's do: it may
    ///   delete only a pod bound to it, checked on the object the deletion replaces.
    package func delete(
        _ info: KindInfo, namespace: String?, name: String, dryRun: Bool = false, gracePeriodSeconds: Int64? = nil, preconditionUID: String? = nil,
        propagationPolicy: PropagationPolicy? = nil, requestingNode: String? = nil
    ) async throws(APIError) -> DeleteOutcome {
        let strategy = strategy(info)
        for _ in 0..<5 {
            let (current, revision) = try await read(info, namespace: namespace, name: name)
            try strategy.admit(AdmissionAttributes(operation: .delete, name: name, old: current, requestingNode: requestingNode))
            var object = Unstructured(jsonValue: current)!
            if let preconditionUID, object.metadata.uid != preconditionUID {
                throw APIError(
                    code: 409, reason: "Conflict",
                    message: "Precondition failed: UID in precondition: \(preconditionUID), UID in object meta: \(object.metadata.uid ?? "")")
            }
            if let finalizer = propagationPolicy?.finalizer, !object.metadata.finalizers.contains(finalizer) {
                object.metadata.finalizers.append(finalizer)
            }
            try strategy.prepareForDelete(&object)
            let gracePeriod = strategy.gracefulDeletionPeriod(of: object, requested: gracePeriodSeconds)
            if object.metadata.finalizers.isEmpty && gracePeriod == nil && !strategy.holdsDeletion(object) {
                // The object as it goes: one that was marked ends with a grace period of 0,
                // as Kubernetes answers the final delete (so it does not read as still pending).
                var removed = current
                if object.metadata.deletionTimestamp != nil { removed[path: ["metadata", "deletionGracePeriodSeconds"]] = 0 }
                if dryRun { return .deleted(removed) }
                do {
                    _ = try await deleteNow(info, namespace: namespace, name: name, revision: revision, releasing: current)
                    return .deleted(removed)
                } catch  where error.reason == "Conflict" {
                    continue
                }
            }
            if object.metadata.deletionTimestamp != nil {
                // A shorter grace period replaces the running one (a node's final delete is 0), so
                // that the removal of the last finalizer then deletes the object.
                guard let running = object.metadata.deletionGracePeriodSeconds, (gracePeriod ?? 0) < running else { return .pending(current) }
                object.metadata.deletionGracePeriodSeconds = gracePeriod ?? 0
            } else {
                object.metadata.deletionTimestamp = timestamp()
                if let gracePeriod { object.metadata.deletionGracePeriodSeconds = gracePeriod }
            }
            if dryRun { return .pending(object.jsonValue) }
            let key = StorageKeys.key(info, namespace: namespace, name: name)
            let stored = withoutResourceVersion(object.jsonValue)
            let result = try await txn(
                TxnRequest(
                    compare: [Compare(key: key, .modRevision(revision), .equal)],
                    success: [.put(PutRequest(key: key, value: try encode(stored, info, strategy, key: key)))]))
            if result.succeeded { return .pending(withResourceVersion(stored, result.revision)) }
        }
        throw .conflict(info.resource, name, group: info.group)
    }

    /// Removes the object stored at `revision`; `releasing` is that object, whose
    /// ClusterIP and NodePorts (a Service's) go back to their ranges in the same transaction.
    private func deleteNow(_ info: KindInfo, namespace: String?, name: String, revision: Revision, releasing: JSONValue) async throws(APIError)
        -> Revision
    {
        let key = StorageKeys.key(info, namespace: namespace, name: name)
        let releases = info == BuiltinKinds.service ? ServiceHoldings(releasing).releases : []
        let result = try await txn(
            TxnRequest(
                compare: [Compare(key: key, .modRevision(revision), .equal)],
                success: [.delete(DeleteRequest(.single(key)))] + releases))
        guard result.succeeded else { throw .conflict(info.resource, name, group: info.group) }
        return result.revision
    }

    // MARK: Helpers

    static let builtinNamespaces: Set<String> = ["default", "kube-system", "kube-public", "kube-node-lease"]

    func read(_ info: KindInfo, namespace: String?, name: String) async throws(APIError) -> (JSONValue, Revision) {
        let result = try await range(RangeRequest(.single(StorageKeys.key(info, namespace: namespace, name: name))))
        guard let kv = result.kvs.first else { throw .notFound(info.resource, name, group: info.group) }
        return (try decode(kv), kv.modRevision)
    }

    private func resolveNamespace(_ info: KindInfo, path: String?, body: String?) throws(APIError) -> String? {
        guard info.namespaced else { return nil }
        let namespace = path ?? body ?? "default"
        if let body, !body.isEmpty, body != namespace {
            throw .badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
        return namespace
    }

    private func checkTypeMeta(_ object: Unstructured, _ info: KindInfo) throws(APIError) {
        if !object.kind.isEmpty, object.kind != info.kind {
            throw .badRequest("the kind \(object.kind) in the request body does not match the resource \(info.resource) (kind \(info.kind))")
        }
        if !object.apiVersion.isEmpty, object.apiVersion != info.apiVersion {
            throw .badRequest("the apiVersion \(object.apiVersion) in the request body does not match \(info.apiVersion)")
        }
    }

    func decode(_ kv: KeyValue) throws(APIError) -> JSONValue {
        var value = kv.value
        if SecretEncryption.isSealed(value) {
            guard let encryption else {
                throw .internalError("stored object \(String(decoding: kv.key, as: UTF8.self)) is encrypted, and this server has no encryption key")
            }
            do {
                value = try encryption.open(value, storageKey: kv.key)
            } catch {
                throw .internalError("stored object \(String(decoding: kv.key, as: UTF8.self)) cannot be decrypted: \(error)")
            }
        }
        do {
            return withResourceVersion(try JSONParser(duplicateKeys: .keepLast).parse(value), kv.modRevision)
        } catch {
            throw .internalError("stored object \(String(decoding: kv.key, as: UTF8.self)) is not valid JSON: \(error)")
        }
    }

    /// The stored bytes of an object: its JSON, sealed for the kinds encrypted at rest.
    func encode(_ object: JSONValue, _ info: KindInfo, _ strategy: any ResourceStrategy, key: Data) throws(APIError) -> Data {
        let plain = Data(JSONSerializer.bytes(withoutResourceVersion(object)))
        guard let encryption, strategy.isEncryptedAtRest else { return plain }
        do {
            return try encryption.seal(plain, storageKey: key)
        } catch {
            throw .internalError("cannot encrypt \(info.resource) for storage: \(error)")
        }
    }

    func withResourceVersion(_ object: JSONValue, _ revision: Revision) -> JSONValue {
        var copy = object
        copy[path: ["metadata", "resourceVersion"]] = .string(String(revision))
        return copy
    }

    func withoutResourceVersion(_ object: JSONValue) -> JSONValue {
        var copy = object
        copy[path: ["metadata", "resourceVersion"]] = nil
        return copy
    }

    func timestamp() -> String {
        Self.format(now())
    }

    static func format(_ date: Date) -> String { KubeTime.format(date) }

    static func randomSuffix() -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String((0..<5).map { _ in alphabet.randomElement()! })
    }

    func range(_ request: RangeRequest) async throws(APIError) -> RangeResult {
        let clock = ContinuousClock()
        let start = clock.now
        defer { metrics.storeDuration[["range"]].record(clock.now - start) }
        do {
            return try await store.range(request)
        } catch {
            throw Self.map(error)
        }
    }

    /// - Parameter lease: the lease the txn's put uses, forgotten if the store no longer has it.
    func txn(_ request: TxnRequest, lease: LeaseID = 0) async throws(APIError) -> TxnResult {
        let clock = ContinuousClock()
        let start = clock.now
        defer { metrics.storeDuration[["txn"]].record(clock.now - start) }
        do {
            return try await store.txn(request)
        } catch {
            if case .leaseNotFound = error { await eventLeases?.forget(lease) }
            throw Self.map(error)
        }
    }

    /// The lease an object of this kind is written with: Events expire, nothing else does.
    func lease(for strategy: any ResourceStrategy) async throws(APIError) -> LeaseID {
        guard strategy.expires, let eventLeases else { return 0 }
        let clock = ContinuousClock()
        let start = clock.now
        defer { metrics.storeDuration[["lease"]].record(clock.now - start) }
        do {
            return try await eventLeases.lease()
        } catch {
            throw Self.map(error)
        }
    }

    static func map(_ error: StoreError) -> APIError {
        switch error {
        case .compacted(let requested, let compactRevision):
            return .expired("too old resource version: \(requested) (\(compactRevision))")
        case .futureRevision(let requested, let current):
            return APIError(code: 504, reason: "Timeout", message: "Too large resource version: \(requested), current: \(current)")
        case .requestTooLarge(let bytes, let limit):
            return .tooLarge("the object is \(bytes) bytes, larger than the store's \(limit)-byte limit")
        default:
            return .internalError("\(error)")
        }
    }
}

/// An opaque list continuation: the revision the list was read at and the key to resume from.
struct ContinueToken {
    var revision: Revision
    var startKey: Data

    init(revision: Revision, startKey: Data) {
        self.revision = revision
        self.startKey = startKey
    }

    init(_ text: String) throws(APIError) {
        guard let bytes = Base64.decode(text), case .object(let object)? = try? JSONParser().parse(bytes),
            let revision = object["rv"]?.intValue, let start = object["start"]?.stringValue.flatMap(Base64.decode)
        else {
            throw .badRequest("invalid continue token")
        }
        self.revision = revision
        self.startKey = Data(start)
    }

    var encoded: String {
        Base64.encode(JSONSerializer.bytes(["rv": .int(revision), "start": .string(Base64.encode(startKey))]))
    }
}
