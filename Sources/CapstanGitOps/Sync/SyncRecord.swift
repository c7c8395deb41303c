public import CapstanCore
import CapstanAPI
public import Foundation

/// One sync attempt or self-heal, as `capstan history` and `GET /history` show it.
public struct SyncRecord: Sendable {
    public enum Result: String, Sendable {
        /// Everything applied and healthy.
        case synced = "Synced"
        /// Applied; some objects are still becoming healthy.
        case progressing = "Progressing"
        /// Applied, but the rollout failed or did not finish in time.
        case degraded = "Degraded"
        /// Nothing was changed: the commit (or the cluster) had errors.
        case failed = "Failed"
        /// Drift was reverted to what git says.
        case healed = "Healed"
    }

    public var sequence: Int
    public var commit: String
    public var author: String
    public var message: String
    public var startedAt: Date
    public var duration: Double
    public var trigger: String
    public var result: Result
    public var created = 0
    public var updated = 0
    public var pruned = 0
    public var unchanged = 0
    /// Errors (with file:line) that stopped the sync, or health problems.
    public var errors: [String] = []
    /// Audit-only policy findings and skipped prunes.
    public var warnings: [String] = []
    /// Where the time went: read, render, policy, plan, dryRun, apply, prune, record, health.
    public var stepSeconds: [(String, Double)] = []

    public var json: JSONValue {
        [
            "sequence": .int(Int64(sequence)), "commit": .string(commit), "author": .string(author), "message": .string(message),
            "startedAt": .string(Self.format(startedAt)), "durationSeconds": .double((duration * 1000).rounded() / 1000),
            "trigger": .string(trigger), "result": .string(result.rawValue),
            "objects": ["created": .int(Int64(created)), "updated": .int(Int64(updated)), "pruned": .int(Int64(pruned)), "unchanged": .int(Int64(unchanged))],
            "errors": .array(errors.map { .string($0) }), "warnings": .array(warnings.map { .string($0) }),
            "stepSeconds": .object(JSONObject(stepSeconds.map { ($0.0, .double(($0.1 * 1000).rounded() / 1000)) }, uniquingKeysWith: { first, _ in first })),
        ]
    }

    init(sequence: Int, commit: String, author: String, message: String, startedAt: Date, trigger: String, result: Result) {
        self.sequence = sequence
        self.commit = commit
        self.author = author
        self.message = message
        self.startedAt = startedAt
        self.duration = 0
        self.trigger = trigger
        self.result = result
    }

    init?(json: JSONValue) {
        guard let sequence = json["sequence"]?.intValue, let commit = json["commit"]?.stringValue,
            let result = json["result"]?.stringValue.flatMap(Result.init(rawValue:))
        else { return nil }
        self.init(
            sequence: Int(sequence), commit: commit, author: json["author"]?.stringValue ?? "", message: json["message"]?.stringValue ?? "",
            startedAt: json["startedAt"]?.stringValue.flatMap(Self.parse) ?? Date(timeIntervalSince1970: 0),
            trigger: json["trigger"]?.stringValue ?? "", result: result)
        duration = json["durationSeconds"]?.doubleValue ?? 0
        created = Int(json[path: ["objects", "created"]]?.intValue ?? 0)
        updated = Int(json[path: ["objects", "updated"]]?.intValue ?? 0)
        pruned = Int(json[path: ["objects", "pruned"]]?.intValue ?? 0)
        unchanged = Int(json[path: ["objects", "unchanged"]]?.intValue ?? 0)
        errors = json["errors"]?.arrayValue?.compactMap(\.stringValue) ?? []
        warnings = json["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    static func format(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon).timeZone(separator: .omitted))
    }

    static func parse(_ text: String) -> Date? { try? Date(text, strategy: .iso8601) }
}

/// Sync records kept in the store, as ConfigMaps in `capstan-system`
/// labelled `capstan.io/gitops-record=sync`; the newest ``limit`` are kept.
struct SyncHistory {
    static let limit = 100

    static func name(_ sequence: Int) -> String {
        "gitops-sync-" + String(repeating: "0", count: max(0, 8 - String(sequence).count)) + String(sequence)
    }

    static func configMap(_ record: SyncRecord) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": [
                "name": .string(name(record.sequence)), "namespace": .string(Inventory.namespace),
                "labels": [Inventory.recordLabel: "sync"],
            ],
            "data": ["record.json": .string(JSONSerializer.string(record.json))],
        ]
    }

    static func load(from cluster: any GitOpsCluster) async throws(APIError) -> [SyncRecord] {
        let maps = try await cluster.list(apiVersion: "v1", kind: "ConfigMap", labelSelector: Inventory.recordLabel + "=sync")
        return maps.compactMap { map -> SyncRecord? in
            guard map[path: ["metadata", "namespace"]]?.stringValue == Inventory.namespace,
                let text = map[path: ["data", "record.json"]]?.stringValue, let json = try? JSONParser().parse(text)
            else { return nil }
            return SyncRecord(json: json)
        }.sorted { $0.sequence < $1.sequence }
    }
}
