/// Reads of the key space. Every method sees a consistent snapshot.
public protocol StoreReader: Sendable {
    /// Returns the keys in `request.range` as of `request.revision` (latest
    /// if `<= 0`).
    ///
    /// - Throws: ``StoreError/compacted(requested:compactRevision:)`` if that
    ///   revision has been compacted; ``StoreError/futureRevision(requested:current:)``
    ///   if it is beyond the latest; ``StoreError/emptyKey`` or
    ///   ``StoreError/invalidRange(reason:)`` for a malformed range.
    func range(_ request: RangeRequest) async throws(StoreError) -> RangeResult

    /// The latest revision, the compaction point and the size on disk.
    func status() async throws(StoreError) -> StoreStatus
}

/// Writes to the key space. A write that returns has been committed (durably,
/// as the backend's durability mode promises) and its events are visible to
/// watchers; a write that throws changed nothing.
public protocol StoreWriter: Sendable {
    /// Writes one key at a new revision.
    ///
    /// - Throws: ``StoreError/leaseNotFound(_:)`` for an unknown lease;
    ///   ``StoreError/keyNotFound`` if `ignoreValue`/`ignoreLease` is set on a
    ///   missing key; ``StoreError/requestTooLarge(bytes:limit:)``.
    func put(_ request: PutRequest) async throws(StoreError) -> PutResult

    /// Deletes every key in a range at one new revision (no new revision if
    /// nothing matched).
    func delete(_ request: DeleteRequest) async throws(StoreError) -> DeleteResult

    /// Evaluates the comparisons and runs one branch atomically; all writes of
    /// the branch share one new revision (none if the branch wrote nothing).
    ///
    /// - Throws: ``StoreError/duplicateKeyInTxn`` if the branch writes a key
    ///   twice; ``StoreError/tooManyTxnOperations(count:limit:)``; any error of
    ///   the operations, in which case nothing of the txn is applied.
    func txn(_ request: TxnRequest) async throws(StoreError) -> TxnResult

    /// Discards history before `revision`: reads and watches below it fail
    /// with ``StoreError/compacted(requested:compactRevision:)``; the latest
    /// version of every key stays. Space is reclaimed before this returns.
    ///
    /// - Throws: ``StoreError/compacted(requested:compactRevision:)`` if
    ///   `revision` is not above the current compaction point;
    ///   ``StoreError/futureRevision(requested:current:)`` if beyond the latest.
    func compact(_ revision: Revision) async throws(StoreError)
}

/// Leases: keys attached to a lease are deleted, with delete events, when it
/// expires or is revoked.
public protocol LeaseStore: Sendable {
    /// Grants a lease with `ttl` seconds; `id == 0` lets the store choose.
    ///
    /// - Throws: ``StoreError/leaseExists(_:)``; ``StoreError/invalidLeaseTTL(_:)``.
    func grantLease(ttl: Int64, id: LeaseID) async throws(StoreError) -> LeaseGrant

    /// Revokes a lease and deletes its keys at one new revision.
    ///
    /// - Throws: ``StoreError/leaseNotFound(_:)``.
    func revokeLease(_ id: LeaseID) async throws(StoreError)

    /// Restarts the lease's TTL; returns the TTL it now has.
    ///
    /// - Throws: ``StoreError/leaseNotFound(_:)`` (also once it has expired).
    func keepAlive(_ id: LeaseID) async throws(StoreError) -> Int64

    /// The lease's remaining and granted TTL, and its keys if `includeKeys`.
    ///
    /// - Throws: ``StoreError/leaseNotFound(_:)``.
    func leaseInfo(_ id: LeaseID, includeKeys: Bool) async throws(StoreError) -> LeaseInfo

    /// Every live lease.
    func leases() async throws(StoreError) -> [LeaseID]
}

/// Ordered change feeds.
public protocol StoreWatcher: Sendable {
    /// Streams every event in `request.range` from `request.startRevision`
    /// (the next revision if `0`) in revision order, each exactly once. The
    /// stream ends with ``WatchBatch/cancellation`` set if the watch cannot
    /// continue (its next revision was compacted); it never blocks writers.
    ///
    /// - Throws: ``StoreError/compacted(requested:compactRevision:)`` if the
    ///   start revision is already compacted.
    func watch(_ request: WatchRequest) async throws(StoreError) -> WatchStream
}

/// The whole store contract; both backends implement it and pass one
/// conformance suite.
public protocol Store: StoreReader, StoreWriter, LeaseStore, StoreWatcher {}
