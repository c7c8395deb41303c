import CapstanAPI
package import CapstanCore

/// One object Capstan applied from git: enough to find it again, to tell
/// whether git changed it, and to say where it came from.
package struct InventoryEntry: Hashable, Sendable, Comparable {
    package var apiVersion: String
    package var identity: ObjectIdentity
    /// Digest of the object as rendered from git (before inventory marks).
    package var hash: String
    /// Repository file the object came from.
    package var file: String

    package init(apiVersion: String, identity: ObjectIdentity, hash: String, file: String) {
        self.apiVersion = apiVersion
        self.identity = identity
        self.hash = hash
        self.file = file
    }

    package static func < (lhs: InventoryEntry, rhs: InventoryEntry) -> Bool { lhs.identity < rhs.identity }

    var json: JSONValue {
        [
            "apiVersion": .string(apiVersion), "kind": .string(identity.kind), "namespace": .string(identity.namespace),
            "name": .string(identity.name), "hash": .string(hash), "file": .string(file),
        ]
    }

    init?(json: JSONValue) {
        guard let apiVersion = json["apiVersion"]?.stringValue, let kind = json["kind"]?.stringValue,
            let name = json["name"]?.stringValue, let hash = json["hash"]?.stringValue
        else { return nil }
        let group = apiVersion.contains("/") ? String(apiVersion.prefix { $0 != "/" }) : ""
        self.init(
            apiVersion: apiVersion,
            identity: ObjectIdentity(group: group, kind: kind, namespace: json["namespace"]?.stringValue ?? "", name: name),
            hash: hash, file: json["file"]?.stringValue ?? "")
    }
}

/// The set of objects the last successful sync left in the cluster: the only
/// objects pruning may ever delete.
///
/// Kept in the store as ConfigMaps in `capstan-system` (a JSON line per
/// object, at most ``chunkSize`` objects per ConfigMap so that a 10,000-object
/// repository stays well under the 1 MiB object limit), and mirrored in memory.
package struct Inventory: Hashable, Sendable {
    package var commit: String?
    package var entries: [ObjectIdentity: InventoryEntry] = [:]

    package init(commit: String? = nil, entries: [InventoryEntry] = []) {
        self.commit = commit
        self.entries = Dictionary(entries.map { ($0.identity, $0) }, uniquingKeysWith: { _, last in last })
    }

    static let chunkSize = 2000
    static let namespace = "capstan-system"
    static let namePrefix = "gitops-inventory-"
    static let recordLabel = "capstan.io/gitops-record"

    /// The ConfigMaps that hold this inventory, in order.
    func configMaps() -> [JSONValue] {
        let sorted = entries.values.sorted()
        var maps: [JSONValue] = []
        var index = 0
        repeat {
            let chunk = sorted.dropFirst(index * Self.chunkSize).prefix(Self.chunkSize)
            let lines = chunk.map { JSONSerializer.string($0.json) }.joined(separator: "\n")
            maps.append([
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": [
                    "name": .string(Self.namePrefix + String(index)), "namespace": .string(Self.namespace),
                    "labels": [Self.recordLabel: "inventory"],
                    "annotations": ["capstan.io/commit": .string(commit ?? ""), "capstan.io/chunks": .string(String(chunkCount))],
                ],
                "data": ["objects": .string(lines)],
            ])
            index += 1
        } while index < chunkCount
        return maps
    }

    var chunkCount: Int { max(1, (entries.count + Self.chunkSize - 1) / Self.chunkSize) }

    /// Reads the inventory back from its ConfigMaps; an empty one when none exist.
    static func load(from cluster: any GitOpsCluster) async throws(APIError) -> Inventory {
        let first = try await cluster.get(identity(chunk: 0), apiVersion: "v1")
        guard let first else { return Inventory() }
        let chunks = Int(first[path: ["metadata", "annotations", "capstan.io/chunks"]]?.stringValue ?? "1") ?? 1
        var inventory = Inventory(
            commit: first[path: ["metadata", "annotations", "capstan.io/commit"]]?.stringValue.flatMap { $0.isEmpty ? nil : $0 })
        for index in 0..<max(1, chunks) {
            let map = index == 0 ? first : try await cluster.get(identity(chunk: index), apiVersion: "v1")
            for line in (map?[path: ["data", "objects"]]?.stringValue ?? "").split(separator: "\n") {
                guard let json = try? JSONParser().parse(Array(line.utf8)), let entry = InventoryEntry(json: json) else { continue }
                inventory.entries[entry.identity] = entry
            }
        }
        return inventory
    }

    /// Writes the inventory and removes chunks a larger earlier inventory left behind.
    func save(to cluster: any GitOpsCluster, previousChunkCount: Int) async throws(APIError) {
        for map in configMaps() { _ = try await cluster.apply(map, dryRun: false) }
        if previousChunkCount > chunkCount {
            for index in chunkCount..<previousChunkCount {
                try await cluster.delete(Self.identity(chunk: index), apiVersion: "v1")
            }
        }
    }

    static func identity(chunk: Int) -> ObjectIdentity {
        ObjectIdentity(group: "", kind: "ConfigMap", namespace: namespace, name: namePrefix + String(chunk))
    }
}
