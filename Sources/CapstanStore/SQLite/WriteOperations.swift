import Foundation

/// The store's write verbs, run by the writer thread inside a job's savepoint.
extension WriteTransaction {
    func put(_ request: PutRequest) throws(StoreError) -> PutResult {
        let (kv, previous) = try KeySpace.put(db, request, revision: writeRevision)
        record(Event(kind: .put, kv: kv, previous: previous))
        return PutResult(revision: kv.modRevision, previous: request.returnPrevious ? previous : nil)
    }

    func delete(_ request: DeleteRequest) throws(StoreError) -> DeleteResult {
        do {
            let kvs = try KeySpace.latest(db, in: request.range)
            if kvs.isEmpty { return DeleteResult(revision: readRevision, deleted: 0) }
            let revision = writeRevision
            try KeySpace.delete(db, kvs, revision: revision)
            for kv in kvs { record(KeySpace.deletion(of: kv, at: revision)) }
            return DeleteResult(
                revision: revision, deleted: Int64(kvs.count), previous: request.returnPrevious ? kvs : [])
        } catch {
            throw error.asStoreError
        }
    }

    func range(_ request: RangeRequest) throws(StoreError) -> RangeResult {
        // Inside a txn, reads see the txn's own earlier writes.
        try KeySpace.range(db, request, current: readRevision, compacted: compactRevision)
    }

    func txn(_ request: TxnRequest) throws(StoreError) -> TxnResult {
        let succeeded: Bool
        do {
            succeeded = try request.compare.allSatisfy { compare throws(SQLiteError) in try KeySpace.holds(db, compare) }
        } catch {
            throw error.asStoreError
        }
        var results: [TxnOperationResult] = []
        for operation in succeeded ? request.success : request.failure {
            switch operation {
            case .range(let range): results.append(.range(try self.range(range)))
            case .put(let put): results.append(.put(try self.put(put)))
            case .delete(let delete): results.append(.delete(try self.delete(delete)))
            case .txn(let nested): results.append(.txn(try txn(nested)))
            }
        }
        // Every response in a txn reports the txn's revision, as etcd's do.
        let revision = readRevision
        return TxnResult(revision: revision, succeeded: succeeded, results: results.map { $0.withRevision(revision) })
    }

    // MARK: Leases

    func grantLease(ttl requested: Int64, id requestedID: LeaseID) throws(StoreError) -> LeaseGrant {
        try Validation.checkLeaseTTL(requested)
        let ttl = max(requested, SQLiteStore.minimumLeaseTTL)
        do {
            var id = requestedID
            if id == 0 {
                repeat { id = Int64.random(in: 1...Int64.max) } while try KeySpace.leaseExists(db, id)
            } else if try KeySpace.leaseExists(db, id) {
                throw StoreError.leaseExists(id)
            }
            let schedule = LeaseSchedule(ttl: ttl, expiresAtMilliseconds: nowMilliseconds + ttl * 1000)
            try db.statement("INSERT INTO leases(id, ttl, expires_at_ms) VALUES (?, ?, ?)")
                .run([.integer(id), .integer(ttl), .integer(schedule.expiresAtMilliseconds)])
            scheduleLease(id, schedule)
            return LeaseGrant(id: id, ttl: ttl)
        } catch let error as StoreError {
            throw error
        } catch let error as SQLiteError {
            throw error.asStoreError
        } catch {
            throw .backend(reason: "\(error)")
        }
    }

    /// Deletes the lease and its keys (one revision for all of them).
    func revokeLease(_ id: LeaseID) throws(StoreError) {
        do {
            guard try KeySpace.leaseExists(db, id) else { throw StoreError.leaseNotFound(id) }
            let keys = try db.statement(
                "SELECT key, value, create_revision, mod_revision, version, lease FROM current WHERE lease = ? ORDER BY key")
            try keys.bind([.integer(id)])
            var kvs: [KeyValue] = []
            while try keys.step() { kvs.append(KeySpace.keyValue(keys)) }
            if !kvs.isEmpty {
                let revision = writeRevision
                try KeySpace.delete(db, kvs, revision: revision)
                for kv in kvs { record(KeySpace.deletion(of: kv, at: revision)) }
            }
            try db.statement("DELETE FROM leases WHERE id = ?").run([.integer(id)])
            scheduleLease(id, nil)
        } catch let error as StoreError {
            throw error
        } catch let error as SQLiteError {
            throw error.asStoreError
        } catch {
            throw .backend(reason: "\(error)")
        }
    }

    func keepAlive(_ id: LeaseID) throws(StoreError) -> Int64 {
        do {
            let statement = try db.statement("SELECT ttl, expires_at_ms FROM leases WHERE id = ?")
            try statement.bind([.integer(id)])
            guard try statement.step(), statement.int64(1) > nowMilliseconds else { throw StoreError.leaseNotFound(id) }
            let ttl = statement.int64(0)
            let schedule = LeaseSchedule(ttl: ttl, expiresAtMilliseconds: nowMilliseconds + ttl * 1000)
            try db.statement("UPDATE leases SET expires_at_ms = ? WHERE id = ?")
                .run([.integer(schedule.expiresAtMilliseconds), .integer(id)])
            scheduleLease(id, schedule)
            return ttl
        } catch let error as StoreError {
            throw error
        } catch let error as SQLiteError {
            throw error.asStoreError
        } catch {
            throw .backend(reason: "\(error)")
        }
    }

    // MARK: Compaction

    func compact(_ target: Revision) throws(StoreError) {
        if target <= compactRevision { throw .compacted(requested: target, compactRevision: compactRevision) }
        if target > readRevision { throw .futureRevision(requested: target, current: readRevision) }
        do {
            // Keep, per key, the newest row at or below the target unless it is
            // a tombstone; rows at the target itself stay so a watch may start there.
            try db.statement(
                """
                DELETE FROM log WHERE revision < ?1 AND (deleted = 1 OR EXISTS (
                  SELECT 1 FROM log AS newer
                  WHERE newer.key = log.key AND newer.revision > log.revision AND newer.revision <= ?1))
                """
            ).run([.integer(target)])
            try db.statement("UPDATE meta SET value = ? WHERE name = 'compact_revision'").run([.integer(target)])
            setCompactRevision(target)
            let db = self.db
            onCommit {
                // Hand freed pages back to the file system and shrink the WAL.
                try? db.execute("PRAGMA incremental_vacuum")
                try? db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            }
        } catch {
            throw error.asStoreError
        }
    }
}

extension TxnOperationResult {
    func withRevision(_ revision: Revision) -> TxnOperationResult {
        switch self {
        case .range(var result):
            result.headerRevision = revision
            return .range(result)
        case .put(var result):
            result.revision = revision
            return .put(result)
        case .delete(var result):
            result.revision = revision
            return .delete(result)
        case .txn(var result):
            result.revision = revision
            return .txn(result)
        }
    }
}
