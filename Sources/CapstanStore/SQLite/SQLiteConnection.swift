import CSQLite3
import Foundation

/// SQLite's error for a failed call, with the database's message.
struct SQLiteError: Error, CustomStringConvertible {
    var code: Int32
    var message: String
    var context: String

    var description: String { "\(context): \(message) (sqlite code \(code))" }

    /// Read-only files, full disks and permission problems: the database is
    /// intact but refuses writes.
    var isNotWritable: Bool {
        let primary = code & 0xff
        return primary == SQLITE_READONLY || primary == SQLITE_FULL || primary == SQLITE_PERM
            || primary == SQLITE_CANTOPEN
    }

    var storeError: StoreError {
        isNotWritable ? .notWritable(reason: description) : .backend(reason: description)
    }
}

/// One SQLite connection. Not thread-safe: each is owned by one thread or
/// checked out of a pool by one task at a time.
final class SQLiteConnection {
    private(set) var handle: OpaquePointer?
    private var statements: [String: SQLiteStatement] = [:]
    let path: String

    init(path: String, readOnly: Bool) throws(SQLiteError) {
        self.path = path
        let flags =
            (readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE))
            | SQLITE_OPEN_NOMUTEX
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        if rc != SQLITE_OK {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw SQLiteError(code: rc, message: message, context: "open \(path)")
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        // Readers wait for a checkpoint or a schema change rather than failing.
        sqlite3_busy_timeout(db, 10_000)
    }

    deinit {
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    func execute(_ sql: String) throws(SQLiteError) {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(message)
            throw SQLiteError(code: rc, message: text, context: sql)
        }
    }

    /// A cached prepared statement, reset and with bindings cleared.
    func statement(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        if let cached = statements[sql] {
            cached.reset()
            return cached
        }
        var raw: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil)
        guard rc == SQLITE_OK, let raw else {
            throw error(rc, context: "prepare \(sql)")
        }
        let statement = SQLiteStatement(raw, connection: self, sql: sql)
        statements[sql] = statement
        return statement
    }

    /// Resets every cached statement. A statement left mid-iteration keeps
    /// its read snapshot (and blocks COMMIT of a write), so transactions call
    /// this before they end.
    func resetStatements() {
        for statement in statements.values { statement.reset() }
    }

    func error(_ rc: Int32, context: String) -> SQLiteError {
        SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)), context: context)
    }

    /// The single integer a query returns (0 if it returns no row).
    func integer(_ sql: String, _ arguments: [SQLiteValue] = []) throws(SQLiteError) -> Int64 {
        let statement = try statement(sql)
        try statement.bind(arguments)
        defer { statement.reset() }
        guard try statement.step() else { return 0 }
        return statement.int64(0)
    }
}

/// A value to bind to a statement parameter.
enum SQLiteValue {
    case integer(Int64)
    case blob(Data)
    case text(String)
    case null
}

/// A prepared statement owned by one ``SQLiteConnection``.
final class SQLiteStatement {
    private let raw: OpaquePointer
    private unowned let connection: SQLiteConnection
    let sql: String

    fileprivate init(_ raw: OpaquePointer, connection: SQLiteConnection, sql: String) {
        self.raw = raw
        self.connection = connection
        self.sql = sql
    }

    deinit { sqlite3_finalize(raw) }

    func reset() {
        sqlite3_reset(raw)
        sqlite3_clear_bindings(raw)
    }

    func bind(_ values: [SQLiteValue]) throws(SQLiteError) {
        for (offset, value) in values.enumerated() {
            try bind(value, at: Int32(offset + 1))
        }
    }

    func bind(_ value: SQLiteValue, at index: Int32) throws(SQLiteError) {
        let rc: Int32
        switch value {
        case .integer(let number):
            rc = sqlite3_bind_int64(raw, index, number)
        case .blob(let data):
            // SQLITE_TRANSIENT: SQLite copies the bytes before this returns.
            let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
            rc = data.withUnsafeBytes { bytes in
                // A zero-length blob must still bind as a blob, not NULL.
                sqlite3_bind_blob64(
                    raw, index, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1), UInt64(bytes.count),
                    transient)
            }
        case .text(let string):
            let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
            rc = sqlite3_bind_text(raw, index, string, -1, transient)
        case .null:
            rc = sqlite3_bind_null(raw, index)
        }
        if rc != SQLITE_OK { throw connection.error(rc, context: "bind \(sql)") }
    }

    /// Advances to the next row; false when done.
    func step() throws(SQLiteError) -> Bool {
        let rc = sqlite3_step(raw)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let failure = connection.error(rc, context: sql)
            sqlite3_reset(raw)
            throw failure
        }
    }

    /// Runs a statement that returns no rows.
    func run(_ values: [SQLiteValue] = []) throws(SQLiteError) {
        reset()
        try bind(values)
        _ = try step()
        sqlite3_reset(raw)
    }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(raw, column) }

    func data(_ column: Int32) -> Data {
        let count = Int(sqlite3_column_bytes(raw, column))
        guard count > 0, let bytes = sqlite3_column_blob(raw, column) else { return Data() }
        return Data(bytes: bytes, count: count)
    }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(raw, column) == SQLITE_NULL }
}

extension Error {
    /// This error as the store reports it: store errors pass through, SQLite
    /// errors map by kind, anything else is a backend failure.
    var asStoreError: StoreError {
        if let error = self as? StoreError { return error }
        if let error = self as? SQLiteError { return error.storeError }
        return .backend(reason: "\(self)")
    }
}
