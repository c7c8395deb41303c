import CapstanAPI
package import CapstanCore
package import Foundation

/// One sync attempt or self-heal, as `capstan history` and `GET /history` show it.
package struct SyncRecord: Sendable {
    package enum Result: String, Codable, Sendable {
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

    package var sequence: Int
    package var commit: String
    package var author: String
    package var message: String
    package var startedAt: Date
    package var duration: Double
    package var trigger: String
    package var result: Result
    package var created = 0
    package var updated = 0
    package var pruned = 0
    package var unchanged = 0
    /// Errors (with file:line) that stopped the sync, or health problems.
    package var errors: [String] = []
    /// Audit-only policy findings and skipped prunes.
    package var warnings: [String] = []
    /// Where the time went: read, render, policy, plan, dryRun, apply, prune, record, health.
    package var stepSeconds: [(String, Double)] = []

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
}

/// The wire and storage form: `durationSeconds` and `stepSeconds` rounded to
/// milliseconds, the object counts under `objects`. Decoding is lenient
/// (records written by older servers may lack fields); sequence, commit and
/// result are required.
extension SyncRecord: Codable {
    private enum CodingKeys: String, CodingKey {
        case sequence, commit, author, message, startedAt, durationSeconds, trigger, result, objects, errors, warnings, stepSeconds
    }

    private struct Counts: Codable {
        var created = 0
        var updated = 0
        var pruned = 0
        var unchanged = 0
    }

    private struct StepKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            sequence: try container.decode(Int.self, forKey: .sequence), commit: try container.decode(String.self, forKey: .commit),
            author: try container.decodeIfPresent(String.self, forKey: .author) ?? "",
            message: try container.decodeIfPresent(String.self, forKey: .message) ?? "",
            startedAt: try container.decodeIfPresent(Date.self, forKey: .startedAt) ?? Date(timeIntervalSince1970: 0),
            trigger: try container.decodeIfPresent(String.self, forKey: .trigger) ?? "",
            result: try container.decode(Result.self, forKey: .result))
        duration = try container.decodeIfPresent(Double.self, forKey: .durationSeconds) ?? 0
        let counts = try container.decodeIfPresent(Counts.self, forKey: .objects) ?? Counts()
        (created, updated, pruned, unchanged) = (counts.created, counts.updated, counts.pruned, counts.unchanged)
        errors = try container.decodeIfPresent([String].self, forKey: .errors) ?? []
        warnings = try container.decodeIfPresent([String].self, forKey: .warnings) ?? []
        if container.contains(.stepSeconds) {
            let steps = try container.nestedContainer(keyedBy: StepKey.self, forKey: .stepSeconds)
            stepSeconds = try steps.allKeys.map { ($0.stringValue, try steps.decode(Double.self, forKey: $0)) }
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(sequence, forKey: .sequence)
        try container.encode(commit, forKey: .commit)
        try container.encode(author, forKey: .author)
        try container.encode(message, forKey: .message)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(Self.milliseconds(duration), forKey: .durationSeconds)
        try container.encode(trigger, forKey: .trigger)
        try container.encode(result, forKey: .result)
        try container.encode(Counts(created: created, updated: updated, pruned: pruned, unchanged: unchanged), forKey: .objects)
        try container.encode(errors, forKey: .errors)
        try container.encode(warnings, forKey: .warnings)
        var steps = container.nestedContainer(keyedBy: StepKey.self, forKey: .stepSeconds)
        var seen = Set<String>()
        for (step, seconds) in stepSeconds where seen.insert(step).inserted {
            try steps.encode(Self.milliseconds(seconds), forKey: StepKey(stringValue: step))
        }
    }

    private static func milliseconds(_ seconds: Double) -> Double { (seconds * 1000).rounded() / 1000 }
}

/// Sync records kept in the store, as ConfigMaps in `capstan-system`
/// labelled `capstan.io/gitops-record=sync`; the newest ``limit`` are kept.
struct SyncHistory {
    static let limit = 100

    static func name(_ sequence: Int) -> String {
        "gitops-sync-" + String(repeating: "0", count: max(0, 8 - String(sequence).count)) + String(sequence)
    }

    static func configMap(_ record: SyncRecord) throws -> JSONValue {
        [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": [
                "name": .string(name(record.sequence)), "namespace": .string(Inventory.namespace),
                "labels": [Inventory.recordLabel: "sync"],
            ],
            "data": ["record.json": .string(JSONSerializer.string(try GitOpsReportCoding.json(record)))],
        ]
    }

    static func load(from cluster: any GitOpsCluster) async throws(APIError) -> [SyncRecord] {
        let maps = try await cluster.list(apiVersion: "v1", kind: "ConfigMap", labelSelector: Inventory.recordLabel + "=sync")
        return maps.compactMap { map -> SyncRecord? in
            guard map[path: ["metadata", "namespace"]]?.stringValue == Inventory.namespace,
                let text = map[path: ["data", "record.json"]]?.stringValue
            else { return nil }
            return try? GitOpsReportCoding.decode(SyncRecord.self, from: Array(text.utf8))
        }.sorted { $0.sequence < $1.sequence }
    }
}
