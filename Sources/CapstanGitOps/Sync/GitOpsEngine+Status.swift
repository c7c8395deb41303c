public import CapstanCore
import Foundation

extension GitOpsEngine {
    /// The `/status` slot: the source, the synced commit, the state of the
    /// last attempt with its errors, health and a drift summary.
    public func statusReport() -> GitOpsStatusReport {
        let last = history.last { $0.result != .healed }
        return GitOpsStatusReport(
            repository: GitCredentials.redacted(configuration.remote), branch: configuration.branch,
            path: configuration.path.isEmpty ? "." : configuration.path, pollIntervalSeconds: pollInterval, state: state(last: last),
            syncedCommit: appliedCommit.map { .init(id: $0.id, summary: $0.summary, author: $0.authorName, appliedAt: appliedAt) },
            lastSync: last,
            health: .init(
                status: appliedCommit == nil ? "Unknown" : health.status.rawValue, message: health.message,
                objects: Dictionary(uniqueKeysWithValues: healthCounts.map { ($0.key.rawValue, $0.value) })),
            drift: .init(
                driftedObjects: drift.objects.count, driftedFields: drift.fieldCount, selfHeal: repositoryConfig.selfHeal, heals: drift.heals.count,
                checkedAt: drift.checkedAt),
            objects: inventory.entries.count, lastFetchAt: lastFetchAt, fetchError: lastFetchError)
    }

    /// One word for the whole source, as `capstan status` leads with it.
    func state(last: SyncRecord?) -> GitOpsState {
        if syncing { return .syncing }
        if lastFetchError != nil { return .fetchFailed }
        guard let last else { return .pending }
        if last.result == .failed { return .failed }
        guard appliedCommit != nil else { return .pending }
        if health.status == .degraded || health.status == .missing { return .degraded }
        if !drift.objects.isEmpty { return .outOfSync }
        return health.status == .progressing ? .progressing : .synced
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
