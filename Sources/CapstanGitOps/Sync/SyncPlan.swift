package import CapstanCore

/// An object as git wants it, ready to apply: the rendered manifest plus
/// Capstan's inventory marks, and the digest that tells whether it changed.
package struct DesiredObject: Sendable {
    package var identity: ObjectIdentity
    package var apiVersion: String
    /// What gets applied: the manifest with inventory label and source annotations.
    package var object: JSONValue
    /// Digest of the manifest as rendered (without the commit annotation, so
    /// that a new commit leaves untouched objects' digests alone): SHA-256,
    /// or for a Secret an HMAC under the server's ``InventoryDigestKey``, since
    /// the inventory that records it is readable by viewers.
    package var hash: String
    package var file: String
    package var line: Int

    package static let inventoryLabel = "capstan.io/inventory"
    package static let sourceAnnotation = "capstan.io/source"
    package static let commitAnnotation = "capstan.io/commit"
    package static let syncWaveAnnotation = "capstan.io/sync-wave"
    package static let pruneAnnotation = "capstan.io/prune"

    init(manifest: Manifest, inventory: String, digestKey: InventoryDigestKey) {
        identity = manifest.identity
        apiVersion = manifest.object.apiVersion
        file = manifest.file
        line = manifest.position(of: FieldPath([])).line
        var object = manifest.object
        object.metadata.labels[Self.inventoryLabel] = inventory
        object.metadata.annotations[Self.sourceAnnotation] = manifest.file
        let serialized = Array(JSONSerializer.string(object.jsonValue).utf8)
        hash = Self.isSecret(identity) ? digestKey.digest(serialized) : ContentHash.sha256(serialized)
        self.object = object.jsonValue
    }

    static func isSecret(_ identity: ObjectIdentity) -> Bool { identity.group.isEmpty && identity.kind == "Secret" }

    /// The object to send for `commit`.
    func stamped(commit: String) -> JSONValue {
        var object = self.object
        object[path: ["metadata", "annotations", Self.commitAnnotation]] = .string(commit)
        return object
    }

    var entry: InventoryEntry { InventoryEntry(apiVersion: apiVersion, identity: identity, hash: hash, file: file) }

    var syncWave: Int {
        Int(object[path: ["metadata", "annotations", Self.syncWaveAnnotation]]?.stringValue ?? "") ?? 0
    }
}

/// What one sync will do, computed before anything is written.
package struct SyncPlan: Sendable {
    /// Objects to apply, grouped into steps applied in order; each step must
    /// be healthy before the next starts.
    package var steps: [[DesiredObject]]
    /// Objects whose rendered form equals what was applied last time.
    package var unchanged: [DesiredObject]
    /// Objects that left git and that Capstan's inventory owns.
    package var prune: [InventoryEntry]

    /// Compares what git wants with the previous inventory.
    init(desired: [DesiredObject], inventory: Inventory, reapplyAll: Bool) {
        var changed: [DesiredObject] = []
        var unchanged: [DesiredObject] = []
        for object in desired {
            if !reapplyAll, inventory.entries[object.identity]?.hash == object.hash {
                unchanged.append(object)
            } else {
                changed.append(object)
            }
        }
        let wanted = Set(desired.map(\.identity))
        prune = inventory.entries.values.filter { !wanted.contains($0.identity) }.sorted {
            Self.order($0.identity.kind, 0) > Self.order($1.identity.kind, 0)
        }
        self.unchanged = unchanged
        let grouped = Dictionary(grouping: changed) { Self.order($0.identity.kind, $0.syncWave) }
        steps = grouped.keys.sorted { $0 < $1 }.map { key in grouped[key]!.sorted { $0.identity < $1.identity } }
    }

    /// Apply order: cluster-wide definitions and namespaces, then
    /// configuration, then services, then workloads, then everything else;
    /// `capstan.io/sync-wave` orders objects within each of these.
    static func order(_ kind: String, _ wave: Int) -> StepKey {
        StepKey(category: category(kind), wave: wave)
    }

    struct StepKey: Hashable, Comparable {
        var category: Int
        var wave: Int
        static func < (lhs: StepKey, rhs: StepKey) -> Bool { (lhs.category, lhs.wave) < (rhs.category, rhs.wave) }
    }

    static func category(_ kind: String) -> Int {
        switch kind {
        case "Namespace", "CustomResourceDefinition", "PriorityClass", "StorageClass", "ClusterRole", "ClusterRoleBinding": 0
        case "ConfigMap", "Secret", "ServiceAccount", "Role", "RoleBinding", "PersistentVolume", "PersistentVolumeClaim",
            "LimitRange", "ResourceQuota":
            1
        case "Service", "Endpoints": 2
        case "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod": 3
        default: 4
        }
    }

    /// Why pruning `prune.count` of `inventoryCount` objects must not happen, if it must not.
    static func pruneRefusal(prune: Int, inventoryCount: Int, desiredCount: Int, config: RepositoryConfig) -> String? {
        guard prune > 0, inventoryCount > 0 else { return nil }
        if desiredCount == 0, !config.allowPruneAll {
            return "the commit would prune all \(inventoryCount) objects Capstan applied; set allowPruneAll: true in capstan.yaml if that is intended"
        }
        // The share rule starts at ten objects: in a three-object repository,
        // deleting two files is an ordinary change, not an accident.
        let share = prune * 100 / inventoryCount
        if inventoryCount >= 10, share > config.pruneLimitPercent, !config.allowPruneAll {
            return
                "the commit would prune \(prune) of \(inventoryCount) objects (\(share)%), more than pruneLimit \(config.pruneLimitPercent)% in capstan.yaml"
        }
        return nil
    }
}
