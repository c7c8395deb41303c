import CapstanSystem
import Foundation
public import Logging
import Synchronization

/// The embedded store: an MVCC revision log in one SQLite database (WAL
/// mode), one writer thread with group commit, pooled concurrent readers.
/// See docs/store.md for the layout.
public final class SQLiteStore: Store {
    /// How durable an acknowledged write is.
    public enum Durability: String, Sendable, CaseIterable {
        /// `synchronous=FULL`: every commit fsyncs the WAL before the write
        /// is acknowledged. Survives power loss. The default.
        case full
        /// `synchronous=NORMAL`: commits reach the OS but are fsynced only at
        /// checkpoints. Survives a crash of Capstan; a power loss may lose the
        /// last acknowledged writes (never corrupts).
        case normal
    }

    public struct Options: Sendable {
        public var durability: Durability
        /// Most jobs committed in one transaction.
        public var maxBatch: Int
        public var watchBufferLimit: WatchBufferLimit

        public init(durability: Durability = .full, maxBatch: Int = 1000, watchBufferLimit: WatchBufferLimit = .init()) {
            self.durability = durability
            self.maxBatch = maxBatch
            self.watchBufferLimit = watchBufferLimit
        }
    }

    /// The shortest lease TTL granted, in seconds.
    public static let minimumLeaseTTL: Int64 = 1
    /// The database file's name inside the data directory.
    public static let fileName = "capstan-store.sqlite"

    public let path: String
    private let options: Options
    private let writer: SQLiteWriter
    private let readers: SQLiteReaderPool
    private let hub: WatchHub

    /// Opens (creating and migrating if needed) the store in `directory` and
    /// starts its writer thread. Call ``close()`` when done.
    ///
    /// - Throws: ``StoreError/backend(reason:)`` if the database cannot be
    ///   opened or is newer than this Capstan; ``StoreError/notWritable(reason:)``
    ///   if a new database cannot be created.
    public init(directory: String, options: Options = Options(), logger: Logger) throws(StoreError) {
        do {
            try Self.makePrivateDirectory(directory)
        } catch {
            throw .notWritable(reason: "cannot create data directory \(directory): \(error.localizedDescription)")
        }
        path = (directory as NSString).appendingPathComponent(Self.fileName)
        self.options = options
        let synchronous = options.durability == .full ? "FULL" : "NORMAL"
        let configure: @Sendable (SQLiteConnection) throws(SQLiteError) -> Void = { db throws(SQLiteError) in
            try db.execute("PRAGMA synchronous = \(synchronous)")
            try db.execute("PRAGMA temp_store = MEMORY")
            try db.execute("PRAGMA cache_size = -16000")
        }
        do {
            let db = try SQLiteConnection(path: path, readOnly: false)
            // WAL lets readers run beside the one writer; set before migrating
            // so even the schema is written through the WAL.
            // auto_vacuum must precede the first table so compaction can hand
            // freed pages back to the file system (PRAGMA incremental_vacuum).
            if try db.integer("SELECT count(*) FROM sqlite_master") == 0 {
                try db.execute("PRAGMA auto_vacuum = INCREMENTAL")
            }
            try db.execute("PRAGMA journal_mode = WAL")
            try configure(db)
            try Schema.migrate(db)
            let (revision, compactRevision) = try KeySpace.revisions(db)
            hub = WatchHub(revision: revision, compactRevision: compactRevision)
            writer = try SQLiteWriter(db: db, hub: hub, logger: logger, maxBatch: options.maxBatch)
        } catch {
            throw error.asStoreError
        }
        readers = SQLiteReaderPool(path: path, configure: configure)
        writer.start()
    }

    /// Stops the writer (queued writes fail with ``StoreError/closed``) and
    /// ends every watch.
    public func close() {
        writer.stop()
        hub.closeAll()
        readers.closeAll()
    }

    // MARK: StoreReader

    public func range(_ request: RangeRequest) async throws(StoreError) -> RangeResult {
        try Validation.check(request)
        return try readers.read { db throws(StoreError) in
            let (current, compacted) = try revisions(db)
            return try KeySpace.range(db, request, current: current, compacted: compacted)
        }
    }

    public func status() async throws(StoreError) -> StoreStatus {
        let (current, compacted) = try readers.read { db throws(StoreError) in try revisions(db) }
        let size = ["", "-wal"].reduce(Int64(0)) { total, suffix in
            let attributes = try? FileManager.default.attributesOfItem(atPath: path + suffix)
            return total + ((attributes?[.size] as? NSNumber)?.int64Value ?? 0)
        }
        return StoreStatus(revision: current, compactRevision: compacted, sizeOnDisk: size)
    }

    private func revisions(_ db: SQLiteConnection) throws(StoreError) -> (Revision, Revision) {
        do {
            return try KeySpace.revisions(db)
        } catch {
            throw error.asStoreError
        }
    }

    // MARK: StoreWriter

    public func put(_ request: PutRequest) async throws(StoreError) -> PutResult {
        try Validation.check(request)
        return try await writer.submit { transaction throws(StoreError) in try transaction.put(request) }
    }

    public func delete(_ request: DeleteRequest) async throws(StoreError) -> DeleteResult {
        try Validation.check(request)
        return try await writer.submit { transaction throws(StoreError) in try transaction.delete(request) }
    }

    public func txn(_ request: TxnRequest) async throws(StoreError) -> TxnResult {
        try Validation.check(request)
        return try await writer.submit { transaction throws(StoreError) in try transaction.txn(request) }
    }

    public func compact(_ revision: Revision) async throws(StoreError) {
        try await writer.submit { transaction throws(StoreError) in try transaction.compact(revision) }
    }

    // MARK: LeaseStore

    public func grantLease(ttl: Int64, id: LeaseID) async throws(StoreError) -> LeaseGrant {
        try Validation.checkLeaseTTL(ttl)
        return try await writer.submit { transaction throws(StoreError) in try transaction.grantLease(ttl: ttl, id: id) }
    }

    public func revokeLease(_ id: LeaseID) async throws(StoreError) {
        try await writer.submit { transaction throws(StoreError) in try transaction.revokeLease(id) }
    }

    public func keepAlive(_ id: LeaseID) async throws(StoreError) -> Int64 {
        try await writer.submit { transaction throws(StoreError) in try transaction.keepAlive(id) }
    }

    public func leaseInfo(_ id: LeaseID, includeKeys: Bool) async throws(StoreError) -> LeaseInfo {
        let now = SQLiteWriter.nowMilliseconds()
        return try readers.read { db throws(StoreError) in
            do {
                let lease = try db.statement("SELECT ttl, expires_at_ms FROM leases WHERE id = ?")
                try lease.bind([.integer(id)])
                guard try lease.step(), lease.int64(1) > now else { throw StoreError.leaseNotFound(id) }
                let granted = lease.int64(0)
                let remaining = (lease.int64(1) - now + 999) / 1000
                var keys: [Data] = []
                if includeKeys {
                    let statement = try db.statement("SELECT key FROM current WHERE lease = ? ORDER BY key")
                    try statement.bind([.integer(id)])
                    while try statement.step() { keys.append(statement.data(0)) }
                }
                return LeaseInfo(id: id, remainingTTL: remaining, grantedTTL: granted, keys: keys)
            } catch let error as StoreError {
                throw error
            } catch let error as SQLiteError {
                throw error.asStoreError
            } catch {
                throw .backend(reason: "\(error)")
            }
        }
    }

    public func leases() async throws(StoreError) -> [LeaseID] {
        let now = SQLiteWriter.nowMilliseconds()
        return try readers.read { db throws(StoreError) in
            do {
                let statement = try db.statement("SELECT id FROM leases WHERE expires_at_ms > ? ORDER BY id")
                try statement.bind([.integer(now)])
                var ids: [LeaseID] = []
                while try statement.step() { ids.append(statement.int64(0)) }
                return ids
            } catch {
                throw error.asStoreError
            }
        }
    }

    // MARK: StoreWatcher

    public func watch(_ request: WatchRequest) async throws(StoreError) -> WatchStream {
        try Validation.check(request.range)
        let compacted = hub.compacted.load(ordering: .sequentiallyConsistent)
        if request.startRevision > 0 && request.startRevision < compacted {
            throw .compacted(requested: request.startRevision, compactRevision: compacted)
        }
        let source = hub.register { id in
            let start =
                request.startRevision > 0
                ? request.startRevision : hub.published.load(ordering: .sequentiallyConsistent) + 1
            return SQLiteWatchSource(
                id: id, request: request, startRevision: start, hub: hub, readers: readers,
                bufferLimit: options.watchBufferLimit)
        }
        return WatchStream(source: source, request: request)
    }

    /// How many watches are open (for tests and metrics).
    public var watcherCount: Int { hub.count }
}

extension SQLiteStore {
    /// The database holds every object, Secrets' sealed values and pod specs
    /// among them: its directory is 0700 from the `mkdir` itself (missing
    /// parents get the usual 0755), and one an older Capstan left wider is
    /// narrowed. The files SQLite makes inside it inherit that privacy.
    static func makePrivateDirectory(_ path: String) throws {
        try PrivateFile.makeDirectory(path)
    }
}
