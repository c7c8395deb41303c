import Foundation

/// Reads events back out of the revision log for watchers that start in
/// the past or fell behind.
enum HistoryReader {
    struct Chunk {
        var events: [Event] = []
        /// Where the chunk stopped, to continue after.
        var lastRow: (revision: Revision, row: Int64)?
        /// Whether the chunk reached `through` (fewer rows than the limit).
        var complete = true
        /// Set when the requested history was compacted away.
        var compactedAt: Revision?
    }

    /// Events in `range` with revision in [`from`, `through`], after log row
    /// `afterRow`, in commit order, at most `limit`.
    static func events(
        _ db: SQLiteConnection, range: KeyRange, from: Revision, afterRow: Int64, through: Revision,
        includePrevious: Bool, limit: Int
    ) throws(StoreError) -> Chunk {
        do {
            let (_, compacted) = try KeySpace.revisions(db)
            if from < compacted { return Chunk(compactedAt: compacted) }
            let (condition, arguments) = KeySpace.condition(range)
            let statement = try db.statement(
                """
                SELECT key, value, create_revision, revision, version, lease, deleted, rowid FROM log
                WHERE revision >= ? AND revision <= ? AND rowid > ? AND \(condition)
                ORDER BY rowid LIMIT \(limit)
                """)
            try statement.bind([.integer(from), .integer(through), .integer(afterRow)] + arguments)
            var chunk = Chunk()
            var rows: [(kv: KeyValue, deleted: Bool)] = []
            while try statement.step() {
                rows.append((KeySpace.keyValue(statement), statement.int64(6) != 0))
                chunk.lastRow = (statement.int64(3), statement.int64(7))
            }
            chunk.complete = rows.count < limit
            for (kv, deleted) in rows {
                let previous = includePrevious ? try previousVersion(db, of: kv.key, before: kv.modRevision) : nil
                if deleted {
                    chunk.events.append(
                        Event(
                            kind: .delete,
                            kv: KeyValue(key: kv.key, value: Data(), createRevision: 0, modRevision: kv.modRevision, version: 0, lease: 0),
                            previous: previous))
                } else {
                    chunk.events.append(Event(kind: .put, kv: kv, previous: previous))
                }
            }
            return chunk
        } catch {
            throw error.asStoreError
        }
    }

    /// The key's value just before `revision`, if it existed then and that
    /// history has not been compacted.
    static func previousVersion(_ db: SQLiteConnection, of key: Data, before revision: Revision) throws(SQLiteError) -> KeyValue? {
        let statement = try db.statement(
            """
            SELECT key, value, create_revision, revision, version, lease, deleted FROM log
            WHERE key = ? AND revision < ? ORDER BY revision DESC LIMIT 1
            """)
        try statement.bind([.blob(key), .integer(revision)])
        guard try statement.step(), statement.int64(6) == 0 else { return nil }
        return KeySpace.keyValue(statement)
    }
}
