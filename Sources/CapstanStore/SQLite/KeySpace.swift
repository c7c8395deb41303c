import Foundation

/// SQL for the key space, shared by reader connections and the writer's
/// transaction. Each function runs inside a transaction the caller holds.
enum KeySpace {
    /// The `WHERE` clause and its arguments for a key range on column `key`.
    static func condition(_ range: KeyRange) -> (sql: String, arguments: [SQLiteValue]) {
        if range.isSingleKey { return ("key = ?", [.blob(range.key)]) }
        if range.isUnbounded { return ("key >= ?", [.blob(range.key)]) }
        return ("key >= ? AND key < ?", [.blob(range.key), .blob(range.rangeEnd)])
    }

    static func revisions(_ db: SQLiteConnection) throws(SQLiteError) -> (current: Revision, compacted: Revision) {
        let statement = try db.statement("SELECT name, value FROM meta WHERE name IN ('revision', 'compact_revision')")
        var current: Revision = 1
        var compacted: Revision = 0
        while try statement.step() {
            if statement.data(0) == Data("revision".utf8) { current = statement.int64(1) } else { compacted = statement.int64(1) }
        }
        return (current, compacted)
    }

    // MARK: Reads

    static func range(
        _ db: SQLiteConnection, _ request: RangeRequest, current: Revision, compacted: Revision
    ) throws(StoreError) -> RangeResult {
        let atRevision = request.revision <= 0 ? current : request.revision
        if atRevision > current { throw .futureRevision(requested: atRevision, current: current) }
        if atRevision < compacted { throw .compacted(requested: atRevision, compactRevision: compacted) }
        let (condition, arguments) = condition(request.range)
        let source: String
        var sourceArguments = arguments
        if atRevision == current {
            source = "SELECT key, value, create_revision, mod_revision, version, lease FROM current WHERE \(condition)"
        } else {
            // The newest log row at or below the revision, per key; tombstones
            // mean the key did not exist then. SQLite takes the bare columns
            // from the row holding max(revision).
            source = """
                SELECT key, value, create_revision, mod_revision, version, lease FROM (
                  SELECT key, value, create_revision, max(revision) AS mod_revision, version, lease, deleted
                  FROM log WHERE \(condition) AND revision <= ? GROUP BY key
                ) WHERE deleted = 0
                """
            sourceArguments.append(.integer(atRevision))
        }
        do {
            let count = try db.integer("SELECT count(*) FROM (\(source))", sourceArguments)
            if request.countOnly {
                return RangeResult(kvs: [], more: false, count: count, headerRevision: current)
            }
            var sql = "SELECT * FROM (\(source)) ORDER BY \(orderBy(request))"
            if request.limit > 0 { sql += " LIMIT \(request.limit)" }
            let statement = try db.statement(sql)
            try statement.bind(sourceArguments)
            var kvs: [KeyValue] = []
            while try statement.step() {
                kvs.append(keyValue(statement, includeValue: !request.keysOnly))
            }
            return RangeResult(kvs: kvs, more: count > Int64(kvs.count), count: count, headerRevision: current)
        } catch {
            throw error.asStoreError
        }
    }

    private static func orderBy(_ request: RangeRequest) -> String {
        let direction = request.sortOrder == .descending ? "DESC" : "ASC"
        // etcd sorts by key ascending when asked for no order.
        if request.sortOrder == .none { return "key ASC" }
        switch request.sortTarget {
        case .key: return "key \(direction)"
        case .version: return "version \(direction), key ASC"
        case .createRevision: return "create_revision \(direction), key ASC"
        case .modRevision: return "mod_revision \(direction), key ASC"
        case .value: return "value \(direction), key ASC"
        }
    }

    /// Reads a row of `key, value, create_revision, mod_revision, version, lease`.
    static func keyValue(_ statement: SQLiteStatement, includeValue: Bool = true) -> KeyValue {
        KeyValue(
            key: statement.data(0), value: includeValue ? statement.data(1) : Data(),
            createRevision: statement.int64(2), modRevision: statement.int64(3),
            version: statement.int64(4), lease: statement.int64(5))
    }

    static func latest(_ db: SQLiteConnection, key: Data) throws(SQLiteError) -> KeyValue? {
        let statement = try db.statement(
            "SELECT key, value, create_revision, mod_revision, version, lease FROM current WHERE key = ?")
        try statement.bind([.blob(key)])
        return try statement.step() ? keyValue(statement) : nil
    }

    static func latest(_ db: SQLiteConnection, in range: KeyRange) throws(SQLiteError) -> [KeyValue] {
        if range.isSingleKey { return try latest(db, key: range.key).map { [$0] } ?? [] }
        let (condition, arguments) = condition(range)
        let statement = try db.statement(
            "SELECT key, value, create_revision, mod_revision, version, lease FROM current WHERE \(condition) ORDER BY key")
        try statement.bind(arguments)
        var kvs: [KeyValue] = []
        while try statement.step() { kvs.append(keyValue(statement)) }
        return kvs
    }

    // MARK: Writes (inside the writer's transaction)

    static func leaseExists(_ db: SQLiteConnection, _ id: LeaseID) throws(SQLiteError) -> Bool {
        try db.integer("SELECT count(*) FROM leases WHERE id = ?", [.integer(id)]) > 0
    }

    /// Writes one key at `revision`; returns the new key-value and the previous one.
    static func put(
        _ db: SQLiteConnection, _ request: PutRequest, revision: Revision
    ) throws(StoreError) -> (kv: KeyValue, previous: KeyValue?) {
        do {
            let previous = try latest(db, key: request.key)
            if (request.ignoreValue || request.ignoreLease) && previous == nil { throw StoreError.keyNotFound }
            let lease = request.ignoreLease ? (previous?.lease ?? 0) : request.lease
            if lease != 0, try !leaseExists(db, lease) { throw StoreError.leaseNotFound(lease) }
            let kv = KeyValue(
                key: request.key, value: request.ignoreValue ? (previous?.value ?? Data()) : request.value,
                createRevision: previous?.createRevision ?? revision, modRevision: revision,
                version: (previous?.version ?? 0) + 1, lease: lease)
            try db.statement(
                "INSERT INTO log(revision, key, value, create_revision, version, lease, deleted) VALUES (?, ?, ?, ?, ?, ?, 0)"
            ).run([
                .integer(revision), .blob(kv.key), .blob(kv.value), .integer(kv.createRevision),
                .integer(kv.version), .integer(kv.lease),
            ])
            try db.statement(
                "INSERT OR REPLACE INTO current(key, value, create_revision, mod_revision, version, lease) VALUES (?, ?, ?, ?, ?, ?)"
            ).run([
                .blob(kv.key), .blob(kv.value), .integer(kv.createRevision), .integer(revision),
                .integer(kv.version), .integer(kv.lease),
            ])
            return (kv, previous)
        } catch let error as StoreError {
            throw error
        } catch let error as SQLiteError {
            throw error.asStoreError
        } catch {
            throw .backend(reason: "\(error)")
        }
    }

    /// Deletes the given live keys at `revision`, writing a tombstone each.
    static func delete(_ db: SQLiteConnection, _ kvs: [KeyValue], revision: Revision) throws(SQLiteError) {
        let tombstone = try db.statement(
            "INSERT INTO log(revision, key, value, create_revision, version, lease, deleted) VALUES (?, ?, x'', 0, 0, 0, 1)")
        let remove = try db.statement("DELETE FROM current WHERE key = ?")
        for kv in kvs {
            try tombstone.run([.integer(revision), .blob(kv.key)])
            try remove.run([.blob(kv.key)])
        }
    }

    /// The delete event for a key deleted at `revision`.
    static func deletion(of kv: KeyValue, at revision: Revision) -> Event {
        Event(
            kind: .delete,
            kv: KeyValue(key: kv.key, value: Data(), createRevision: 0, modRevision: revision, version: 0, lease: 0),
            previous: kv)
    }

    // MARK: Txn guards

    static func holds(_ db: SQLiteConnection, _ compare: Compare) throws(SQLiteError) -> Bool {
        let kvs = try latest(db, in: compare.range)
        if kvs.isEmpty {
            if case .value = compare.target { return false }
            return holds(compare, for: KeyValue(key: compare.range.key, value: Data(), createRevision: 0, modRevision: 0, version: 0, lease: 0))
        }
        return kvs.allSatisfy { holds(compare, for: $0) }
    }

    static func holds(_ compare: Compare, for kv: KeyValue) -> Bool {
        let ordering: Int
        switch compare.target {
        case .version(let version): ordering = order(kv.version, version)
        case .createRevision(let revision): ordering = order(kv.createRevision, revision)
        case .modRevision(let revision): ordering = order(kv.modRevision, revision)
        case .lease(let lease): ordering = order(kv.lease, lease)
        case .value(let value):
            ordering = kv.value == value ? 0 : (kv.value.lexicographicallyPrecedes(value) ? -1 : 1)
        }
        switch compare.op {
        case .equal: return ordering == 0
        case .notEqual: return ordering != 0
        case .greater: return ordering > 0
        case .less: return ordering < 0
        }
    }

    private static func order(_ lhs: Int64, _ rhs: Int64) -> Int { lhs == rhs ? 0 : (lhs < rhs ? -1 : 1) }
}
