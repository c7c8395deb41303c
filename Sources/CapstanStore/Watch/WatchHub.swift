import Synchronization

/// Fans committed events out to live watchers. The writer calls ``publish``
/// after each commit; publishing only appends to each matching watcher's
/// bounded buffer, so a slow watcher never blocks a writer (see
/// ``SQLiteWatchSource`` for what happens when a buffer fills).
final class WatchHub: Sendable {
    private let watchers = Mutex<[Int: SQLiteWatchSource]>([:])
    private let nextID = Atomic<Int>(1)
    /// The newest revision whose events are committed and being handed out.
    let published: Atomic<Revision>
    /// The newest revision whose events every live watcher has been offered.
    let delivered: Atomic<Revision>
    let compacted: Atomic<Revision>

    init(revision: Revision, compactRevision: Revision) {
        published = Atomic(revision)
        delivered = Atomic(revision)
        compacted = Atomic(compactRevision)
    }

    /// Called by the writer thread after a commit, in revision order.
    func publish(_ batches: [(revision: Revision, events: [Event])], compactRevision: Revision) {
        compacted.store(compactRevision, ordering: .sequentiallyConsistent)
        for batch in batches {
            // Stored before offering, so a watcher finishing its catch-up
            // either sees this revision (and reads it from the database) or is
            // already live and gets it offered below.
            published.store(batch.revision, ordering: .sequentiallyConsistent)
            let targets = watchers.withLock { Array($0.values) }
            for watcher in targets { watcher.offer(batch.events, revision: batch.revision) }
            delivered.store(batch.revision, ordering: .sequentiallyConsistent)
        }
    }

    func register(_ make: (Int) -> SQLiteWatchSource) -> SQLiteWatchSource {
        let id = nextID.add(1, ordering: .relaxed).oldValue
        let watcher = make(id)
        watchers.withLock { $0[id] = watcher }
        return watcher
    }

    func remove(_ id: Int) {
        _ = watchers.withLock { $0.removeValue(forKey: id) }
    }

    /// Ends every watch (the store is closing).
    func closeAll() {
        let all = watchers.withLock { watchers in
            defer { watchers.removeAll() }
            return Array(watchers.values)
        }
        for watcher in all { watcher.close() }
    }

    var count: Int { watchers.withLock { $0.count } }
}
