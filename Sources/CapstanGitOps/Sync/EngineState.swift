import CapstanCore
import Foundation

/// What ``GitOpsEngine`` knows of its source between syncs.
struct SourceState: Sendable {
    /// The commit of the last attempt and whether it needs no retry.
    var lastAttempt: (commit: String, settled: Bool)?
    /// Why the last fetch failed; nil once a fetch succeeds.
    var fetchError: String?
    var fetchedAt: Date?
    /// A commit is going through the steps now.
    var syncing = false
}

/// What the last applied commit put in the cluster, and how it fares. A sync
/// stopped before its first write leaves all of it as it was.
struct AppliedState: Sendable {
    var commit: GitCommit?
    var appliedAt: Date?
    /// What the commit asked for, by identity.
    var desired: [ObjectIdentity: DesiredObject] = [:]
    /// The repository's own settings (`.capstan.yaml`) at that commit.
    var config = RepositoryConfig()
    /// What Capstan applied and may prune: read from the store at start.
    var inventory = Inventory()
    var health = HealthSummary(worst: Health(status: .healthy, message: ""), counts: [:])
    /// Differences found since the commit was applied; reset by each sync.
    var drift = DriftLedger()
}
