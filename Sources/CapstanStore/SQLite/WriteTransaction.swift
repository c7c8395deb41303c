import Foundation

/// The writer's view of one group-committed SQLite transaction. Each job in
/// the batch runs inside its own savepoint and gets its own revision, so a
/// failing job is undone alone and revisions stay gap-free.
final class WriteTransaction {
    let db: SQLiteConnection
    let nowMilliseconds: Int64
    /// The last revision used by a job that succeeded (or the store's).
    private(set) var revision: Revision
    private(set) var compactRevision: Revision
    /// Committed-in-this-batch events per revision, in order.
    private(set) var eventBatches: [(revision: Revision, events: [Event])] = []
    /// Lease table changes to mirror into the writer's expiry schedule after commit.
    private(set) var leaseChanges: [LeaseID: LeaseSchedule?] = [:]
    /// Work to do on the writer thread once the batch has committed.
    private(set) var afterCommit: [() -> Void] = []

    private var jobRevision: Revision?
    private var jobEvents: [Event] = []
    private var jobLeaseChanges: [LeaseID: LeaseSchedule?] = [:]
    private var jobAfterCommit: [() -> Void] = []
    private var jobCompactRevision: Revision?

    init(db: SQLiteConnection, revision: Revision, compactRevision: Revision, nowMilliseconds: Int64) {
        self.db = db
        self.revision = revision
        self.compactRevision = compactRevision
        self.nowMilliseconds = nowMilliseconds
    }

    // MARK: Job lifecycle (writer loop)

    func beginJob() {
        jobRevision = nil
        jobEvents = []
        jobLeaseChanges = [:]
        jobAfterCommit = []
        jobCompactRevision = nil
    }

    /// Keeps what the job did (its savepoint was released).
    func keepJob() {
        if let jobRevision {
            revision = jobRevision
            eventBatches.append((jobRevision, jobEvents))
        }
        leaseChanges.merge(jobLeaseChanges) { _, new in new }
        afterCommit += jobAfterCommit
        if let jobCompactRevision { compactRevision = jobCompactRevision }
    }

    // MARK: Used by jobs

    /// The revision of the running job's writes; the first call allocates it.
    var writeRevision: Revision {
        if let jobRevision { return jobRevision }
        let next = revision + 1
        jobRevision = next
        return next
    }

    /// The revision reads inside the running job observe.
    var readRevision: Revision { jobRevision ?? revision }

    func record(_ event: Event) { jobEvents.append(event) }

    func scheduleLease(_ id: LeaseID, _ schedule: LeaseSchedule?) { jobLeaseChanges[id] = schedule }

    func onCommit(_ work: @escaping () -> Void) { jobAfterCommit.append(work) }

    func setCompactRevision(_ revision: Revision) { jobCompactRevision = revision }
}

/// When a lease expires, as the writer schedules it.
struct LeaseSchedule: Sendable, Hashable {
    var ttl: Int64
    var expiresAtMilliseconds: Int64
}
