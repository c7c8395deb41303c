public import CapstanCore
import Foundation

extension GitOpsEngine {
    /// The `/status` slot: the source, the synced commit, the state of the
    /// last attempt with its errors, health and a drift summary.
    public func statusReport() -> JSONValue {
        var report: JSONObject = [
            "repository": .string(GitCredentials.redacted(configuration.remote)), "branch": .string(configuration.branch),
            "path": .string(configuration.path.isEmpty ? "." : configuration.path),
            "pollIntervalSeconds": .double(pollInterval),
        ]
        let last = history.last { $0.result != .healed }
        report["state"] = .string(state(last: last))
        if let appliedCommit {
            report["syncedCommit"] = [
                "id": .string(appliedCommit.id), "summary": .string(appliedCommit.summary),
                "author": .string(appliedCommit.authorName), "appliedAt": appliedAt.map { .string(SyncRecord.format($0)) } ?? .null,
            ]
        } else {
            report["syncedCommit"] = .null
        }
        if let last { report["lastSync"] = last.json }
        report["health"] = [
            "status": .string(appliedCommit == nil ? "Unknown" : health.status.rawValue), "message": .string(health.message),
            "objects": .object(JSONObject(uniqueKeysWithValues: healthCounts.sorted { $0.key < $1.key }.map { ($0.key.rawValue, .int(Int64($0.value))) })),
        ]
        report["drift"] = [
            "driftedObjects": .int(Int64(drift.objects.count)), "driftedFields": .int(Int64(drift.fieldCount)),
            "selfHeal": .bool(repositoryConfig.selfHeal), "heals": .int(Int64(drift.heals.count)),
            "checkedAt": drift.checkedAt.map { .string(SyncRecord.format($0)) } ?? .null,
        ]
        report["objects"] = .int(Int64(inventory.entries.count))
        if let lastFetchAt { report["lastFetchAt"] = .string(SyncRecord.format(lastFetchAt)) }
        if let lastFetchError { report["fetchError"] = .string(lastFetchError) }
        return .object(report)
    }

    /// One word for the whole source, as `capstan status` leads with it.
    func state(last: SyncRecord?) -> String {
        if syncing { return "Syncing" }
        if lastFetchError != nil { return "FetchFailed" }
        guard let last else { return "Pending" }
        if last.result == .failed { return "Failed" }
        guard appliedCommit != nil else { return "Pending" }
        if health.status == .degraded || health.status == .missing { return "Degraded" }
        if !drift.objects.isEmpty { return "OutOfSync" }
        return health.status == .progressing ? "Progressing" : "Synced"
    }

}

extension GitOpsEngine {
    /// Re-evaluates health while the applied commit is not yet healthy, and
    /// now and then afterwards; `/status` reads the result.
    var isHealthy: Bool { health.status == .healthy }

    func refreshHealth() async {
        guard appliedCommit != nil, !syncing else { return }
        await evaluateHealth()
    }
}
