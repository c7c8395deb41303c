import Synchronization

/// Read-only connections for concurrent readers. In WAL mode each reads a
/// consistent snapshot while the writer commits.
final class SQLiteReaderPool: Sendable {
    private let idle: Mutex<[PooledConnection]>
    private let path: String
    private let configure: @Sendable (SQLiteConnection) throws(SQLiteError) -> Void

    init(path: String, configure: @escaping @Sendable (SQLiteConnection) throws(SQLiteError) -> Void) {
        self.path = path
        self.configure = configure
        idle = Mutex([])
    }

    /// Runs `body` inside one read transaction on a pooled connection.
    func read<Value>(_ body: (SQLiteConnection) throws(StoreError) -> Value) throws(StoreError) -> Value {
        let connection: PooledConnection
        if let pooled = idle.withLock({ $0.popLast() }) {
            connection = pooled
        } else {
            do {
                let db = try SQLiteConnection(path: path, readOnly: true)
                try configure(db)
                connection = PooledConnection(db: db)
            } catch {
                throw error.asStoreError
            }
        }
        let db = connection.db
        do {
            try db.execute("BEGIN")
        } catch {
            throw error.asStoreError
        }
        defer {
            db.resetStatements()
            try? db.execute("COMMIT")
            idle.withLock { $0.append(connection) }
        }
        return try body(db)
    }

    func closeAll() {
        idle.withLock { $0.removeAll() }
    }
}

/// A connection handed to one reader at a time by ``SQLiteReaderPool``.
final class PooledConnection: @unchecked Sendable {
    let db: SQLiteConnection
    init(db: SQLiteConnection) { self.db = db }
}
