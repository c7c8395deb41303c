package import CapstanCore
import Foundation

extension GitOpsEngine {
    /// The `/status` slot: the source, the synced commit, the state of the
    /// last attempt with its errors, health and a drift summary.
    package func statusReport() -> GitOpsStatusReport {
        let last = history.last { $0.result != .healed }
        return GitOpsStatusReport(
            repository: GitCredentials.redacted(configuration.remote), branch: configuration.branch,
            path: configuration.path.isEmpty ? "." : configuration.path, pollIntervalSeconds: pollInterval, state: state(last: last),
            syncedCommit: applied.commit.map { .init(id: $0.id, summary: $0.summary, author: $0.authorName, appliedAt: applied.appliedAt) },
            lastSync: last,
            health: .init(
                status: applied.commit == nil ? "Unknown" : applied.health.worst.status.rawValue, message: applied.health.worst.message,
                objects: Dictionary(uniqueKeysWithValues: applied.health.counts.map { ($0.key.rawValue, $0.value) })),
            drift: .init(
                driftedObjects: applied.drift.objects.count, driftedFields: applied.drift.fieldCount, selfHeal: applied.config.selfHeal,
                heals: applied.drift.heals.count,
                checkedAt: applied.drift.checkedAt),
            objects: applied.inventory.entries.count, lastFetchAt: source.fetchedAt, fetchError: source.fetchError)
    }

    /// One word for the whole source, as `capstan status` leads with it.
    func state(last: SyncRecord?) -> GitOpsState {
        if source.syncing { return .syncing }
        if source.fetchError != nil { return .fetchFailed }
        guard let last else { return .pending }
        if last.result == .failed { return .failed }
        guard applied.commit != nil else { return .pending }
        if applied.health.worst.status == .degraded || applied.health.worst.status == .missing { return .degraded }
        if !applied.drift.objects.isEmpty { return .outOfSync }
        return applied.health.worst.status == .progressing ? .progressing : .synced
    }

}

extension GitOpsEngine {
    /// Re-evaluates health while the applied commit is not yet healthy, and
    /// now and then afterwards; `/status` reads the result.
    var isHealthy: Bool { applied.health.worst.status == .healthy }

    func refreshHealth() async {
        guard applied.commit != nil, !source.syncing else { return }
        await evaluateHealth()
    }
}
