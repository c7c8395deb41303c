import Foundation
import Logging

/// The store's single writer: one thread owning the read-write connection.
/// Writers queue jobs; the thread takes everything queued, runs it in one
/// SQLite transaction (one savepoint and one revision per job), commits
/// once, and only then answers every job and publishes the events. Batching
/// concurrent writers into one fsync is what makes the store fast (group
/// commit); a lone writer pays exactly one commit.
final class SQLiteWriter: @unchecked Sendable {
    // @unchecked: `db`, `revision`, `compactRevision` and `schedule` are touched
    // only by the writer thread; `queue`, `stopping` and `thread` only under
    // `condition`.

    /// One queued write: `execute` runs in the job's savepoint and reports
    /// success; `finish` answers the caller after the commit (with the
    /// commit's error, if it failed).
    struct Job {
        let execute: (WriteTransaction) -> Bool
        let finish: (StoreError?) -> Void
    }

    private let db: SQLiteConnection
    private let hub: WatchHub
    private let logger: Logger
    private let maxBatch: Int
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var stopping = false
    private var finished = false
    private var revision: Revision
    private var compactRevision: Revision
    private var schedule: [LeaseID: LeaseSchedule] = [:]
    /// After a failed expiry (say, the disk is full) the writer retries no
    /// sooner than this, instead of spinning.
    private var expiryBackoffUntil: Int64 = 0

    init(db: SQLiteConnection, hub: WatchHub, logger: Logger, maxBatch: Int) throws(SQLiteError) {
        self.db = db
        self.hub = hub
        self.logger = logger
        self.maxBatch = maxBatch
        (revision, compactRevision) = try KeySpace.revisions(db)
        schedule = try Self.loadSchedule(db)
    }

    private static func loadSchedule(_ db: SQLiteConnection) throws(SQLiteError) -> [LeaseID: LeaseSchedule] {
        var schedule: [LeaseID: LeaseSchedule] = [:]
        let statement = try db.statement("SELECT id, ttl, expires_at_ms FROM leases")
        while try statement.step() {
            schedule[statement.int64(0)] = LeaseSchedule(ttl: statement.int64(1), expiresAtMilliseconds: statement.int64(2))
        }
        return schedule
    }

    var initialRevision: Revision { revision }

    /// Starts the writer thread.
    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "capstan-store-writer"
        thread.start()
    }

    /// Answers queued jobs with ``StoreError/closed`` after the running batch,
    /// and waits for the thread to end.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    /// Queues a write and waits for its commit.
    func submit<Value: Sendable>(
        _ body: @escaping (WriteTransaction) throws(StoreError) -> Value
    ) async throws(StoreError) -> Value {
        let result: Result<Value, StoreError> = await withCheckedContinuation { continuation in
            let outcome = OutcomeBox<Value>()
            let job = Job(
                execute: { transaction in
                    do {
                        outcome.value = .success(try body(transaction))
                        return true
                    } catch {
                        outcome.value = .failure(error.asStoreError)
                        return false
                    }
                },
                finish: { commitError in
                    if let commitError, case .success? = outcome.value {
                        continuation.resume(returning: .failure(commitError))
                    } else {
                        continuation.resume(returning: outcome.value ?? .failure(commitError ?? .closed))
                    }
                })
            condition.lock()
            let accepted = !stopping
            if accepted {
                queue.append(job)
                condition.signal()
            }
            condition.unlock()
            if !accepted { job.finish(.closed) }
        }
        return try result.get()
    }

    // MARK: Writer thread

    private func run() {
        while let jobs = nextBatch() {
            let expired = expiredLeases()
            let all = expired.map(expiryJob) + jobs
            if !all.isEmpty { commit(all) }
        }
        condition.lock()
        let abandoned = queue
        queue = []
        finished = true
        condition.broadcast()
        condition.unlock()
        for job in abandoned { job.finish(.closed) }
    }

    /// Waits for work or the next lease expiry; `nil` when stopping.
    private func nextBatch() -> [Job]? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !stopping {
            if let soonest = schedule.values.map(\.expiresAtMilliseconds).min() {
                let next = max(soonest, expiryBackoffUntil)
                let wait = Double(next - Self.nowMilliseconds()) / 1000
                if wait <= 0 { return [] }
                // Waking at least twice a second bounds expiry lateness even if
                // the wall clock jumps.
                _ = condition.wait(until: Date(timeIntervalSinceNow: min(wait, 0.5)))
                if queue.isEmpty && !stopping { return [] }
            } else {
                condition.wait()
            }
        }
        if stopping { return nil }
        let batch = Array(queue.prefix(maxBatch))
        queue.removeFirst(batch.count)
        return batch
    }

    private func expiredLeases() -> [LeaseID] {
        let now = Self.nowMilliseconds()
        if now < expiryBackoffUntil { return [] }
        return schedule.filter { $0.value.expiresAtMilliseconds <= now }.map(\.key).sorted()
    }

    private func expiryJob(_ id: LeaseID) -> Job {
        Job(
            execute: { transaction in
                do {
                    try transaction.revokeLease(id)
                    return true
                } catch {
                    self.logger.warning("lease \(id) expiry failed, will retry: \(error)")
                    self.expiryBackoffUntil = Self.nowMilliseconds() + 1000
                    return false
                }
            },
            finish: { error in
                if let error {
                    self.logger.warning("lease \(id) expiry failed, will retry: \(error)")
                    self.expiryBackoffUntil = Self.nowMilliseconds() + 1000
                }
            })
    }

    private func commit(_ jobs: [Job]) {
        let transaction = WriteTransaction(
            db: db, revision: revision, compactRevision: compactRevision, nowMilliseconds: Self.nowMilliseconds())
        var failure: StoreError?
        do {
            try db.execute("BEGIN IMMEDIATE")
        } catch {
            failure = error.asStoreError
        }
        if failure == nil {
            for job in jobs {
                transaction.beginJob()
                do {
                    try db.execute("SAVEPOINT job")
                    let succeeded = job.execute(transaction)
                    db.resetStatements()
                    if succeeded {
                        try db.execute("RELEASE job")
                        transaction.keepJob()
                    } else {
                        try db.execute("ROLLBACK TO job")
                        try db.execute("RELEASE job")
                    }
                } catch {
                    failure = error.asStoreError
                    break
                }
            }
        }
        if failure == nil {
            do {
                if transaction.revision != revision {
                    try db.statement("UPDATE meta SET value = ? WHERE name = 'revision'").run([.integer(transaction.revision)])
                }
                try db.execute("COMMIT")
            } catch {
                failure = error.asStoreError
            }
        }
        if let failure {
            db.resetStatements()
            try? db.execute("ROLLBACK")
            logger.error("store write batch of \(jobs.count) failed: \(failure)")
            reloadState()
            for job in jobs { job.finish(failure) }
            return
        }
        revision = transaction.revision
        compactRevision = transaction.compactRevision
        for (id, change) in transaction.leaseChanges { schedule[id] = change }
        hub.publish(transaction.eventBatches, compactRevision: compactRevision)
        // Before answering: a compaction promises its space is reclaimed on return.
        for work in transaction.afterCommit { work() }
        for job in jobs { job.finish(nil) }
    }

    /// After a failed commit, the database holds the last committed state.
    private func reloadState() {
        do {
            (revision, compactRevision) = try KeySpace.revisions(db)
            schedule = try Self.loadSchedule(db)
        } catch {
            logger.error("store could not reload its state after a failed write: \(error)")
        }
    }

    static func nowMilliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

/// Carries a job's result from `execute` to `finish`; both run on the writer thread.
private final class OutcomeBox<Value>: @unchecked Sendable {
    var value: Result<Value, StoreError>?
}
