import CapstanCore
import Foundation

/// Why a sync stopped, typed the way Flux types its reconcile errors
/// (`serror`): whether trying the same commit again can help.
package struct SyncError: Error, Sendable, Hashable {
    package enum Kind: Sendable, Hashable {
        /// The commit itself cannot be applied (it does not render, breaks a
        /// policy, would prune too much) or its rollout stalled: nothing is
        /// retried until a new commit arrives.
        case stalled
        /// The cluster or git failed or disagreed (a dry run refused, an
        /// apply failed, the commit's files could not be read): the same
        /// commit is tried again at the next poll.
        case retryable
    }

    package var kind: Kind
    /// What went wrong, each with the commit, `file:line` and object where known.
    package var messages: [String]
    /// How the record of the attempt reads: `Failed` when nothing (or not
    /// everything) was applied, `Degraded` when a rollout stopped the sync.
    package var result: SyncRecord.Result

    package static func stalled(_ messages: [String], result: SyncRecord.Result = .failed) -> SyncError {
        SyncError(kind: .stalled, messages: messages, result: result)
    }

    package static func retryable(_ messages: [String]) -> SyncError {
        SyncError(kind: .retryable, messages: messages, result: .failed)
    }
}

/// One commit on its way through the steps: what each step found, for the next.
struct SyncRun: Sendable {
    let commit: GitCommit
    /// The record of the attempt; steps add counts, warnings and non-fatal errors.
    var record: SyncRecord
    /// The inventory before this sync.
    let previous: Inventory
    /// Work remembered from earlier syncs; steps update it.
    var caches: SyncCaches

    var input: RenderInput?
    var rendered: RenderedCommit?
    var objects: [DesiredObject] = []
    var plan: SyncPlan?
    /// The inventory being written: set once the first write may happen.
    var next: Inventory?
    /// Why the sync stopped, if it did; later steps that must still run see it.
    var failure: SyncError?
    /// The applied objects' health, once ``HealthStep`` looked.
    var health: HealthSummary?

    var shortID: String { commit.shortID }
}

/// Per-unit work kept between syncs: digested objects, and units that passed
/// the policies (by the policies' fingerprint).
struct SyncCaches: Sendable {
    var desiredByUnit: [String: [DesiredObject]] = [:]
    var policy = PolicyCache()
}

/// One step of a sync. A step reads what the steps before it left in the
/// run, adds its own, and throws a ``SyncError`` to stop the sync.
/// Steps before ``ApplyStep`` write nothing, so a commit they stop changes nothing.
protocol SyncStep: Sendable {
    /// The step's name in the record's `stepSeconds`.
    var name: String { get }
    /// Whether the step runs in this state; by default only while nothing failed.
    func shouldRun(_ run: SyncRun) -> Bool
    func run(_ run: inout SyncRun) async throws(SyncError)
}

extension SyncStep {
    func shouldRun(_ run: SyncRun) -> Bool { run.failure == nil }
}
