/// The database layout and its migrations. Each migration runs once, in
/// order, inside one transaction with the `schema_version` update, so a crash
/// mid-migration leaves the previous version intact.
///
/// Layout (see docs/store.md):
/// - `log`: one row per change (put or delete tombstone), the revision log
///   that history reads, watches and compaction work on.
/// - `current`: the live value of every existing key, so reads at the latest
///   revision are one index range scan.
/// - `meta`: the current and the compacted revision.
/// - `leases`: granted leases with their absolute expiry time, so expiry
///   survives restarts.
enum Schema {
    static let migrations: [(version: Int64, sql: String)] = [
        (
            1,
            """
            CREATE TABLE meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
            INSERT INTO meta(name, value) VALUES ('revision', 1), ('compact_revision', 0);
            CREATE TABLE log(
                revision INTEGER NOT NULL,
                key BLOB NOT NULL,
                value BLOB NOT NULL,
                create_revision INTEGER NOT NULL,
                version INTEGER NOT NULL,
                lease INTEGER NOT NULL,
                deleted INTEGER NOT NULL
            );
            CREATE UNIQUE INDEX log_key_revision ON log(key, revision);
            CREATE INDEX log_revision ON log(revision);
            CREATE TABLE current(
                key BLOB PRIMARY KEY,
                value BLOB NOT NULL,
                create_revision INTEGER NOT NULL,
                mod_revision INTEGER NOT NULL,
                version INTEGER NOT NULL,
                lease INTEGER NOT NULL
            ) WITHOUT ROWID;
            CREATE INDEX current_lease ON current(lease) WHERE lease != 0;
            CREATE TABLE leases(
                id INTEGER PRIMARY KEY,
                ttl INTEGER NOT NULL,
                expires_at_ms INTEGER NOT NULL
            );
            """
        )
    ]

    static var latestVersion: Int64 { migrations.last?.version ?? 0 }

    /// Brings the database to the latest schema; refuses a database written
    /// by a newer Capstan.
    static func migrate(_ db: SQLiteConnection) throws(SQLiteError) {
        try db.execute("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)")
        let current = try db.integer("SELECT coalesce(max(version), 0) FROM schema_version")
        if current > latestVersion {
            throw SQLiteError(
                code: 1,
                message: "database schema version \(current) is newer than this Capstan's \(latestVersion)",
                context: "open \(db.path)")
        }
        for migration in migrations where migration.version > current {
            try db.execute("BEGIN IMMEDIATE")
            do {
                try db.execute(migration.sql)
                try db.execute("DELETE FROM schema_version")
                try db.execute("INSERT INTO schema_version(version) VALUES (\(migration.version))")
                try db.execute("COMMIT")
            } catch {
                try? db.execute("ROLLBACK")
                throw error
            }
        }
    }
}
