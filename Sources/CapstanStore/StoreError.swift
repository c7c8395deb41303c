/// Every way a store operation can fail. Messages name what was wrong and,
/// where it helps, the limit or the revision involved.
public enum StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A read or watch asked for a revision older than the compaction point.
    case compacted(requested: Revision, compactRevision: Revision)
    /// A read or compaction asked for a revision the store has not reached.
    case futureRevision(requested: Revision, current: Revision)
    /// The request is larger than ``StoreLimits/maxRequestBytes``.
    case requestTooLarge(bytes: Int, limit: Int)
    /// A key was empty.
    case emptyKey
    /// A range end lies before its start key.
    case invalidRange(reason: String)
    /// The lease does not exist (never granted, revoked, or expired).
    case leaseNotFound(LeaseID)
    /// A lease with the requested ID already exists.
    case leaseExists(LeaseID)
    /// A lease TTL outside the allowed range.
    case invalidLeaseTTL(Int64)
    /// A put with `ignoreValue`/`ignoreLease` on a key that does not exist.
    case keyNotFound
    /// A txn branch writes the same key twice.
    case duplicateKeyInTxn
    /// A txn has more operations than ``StoreLimits/maxTxnOperations``.
    case tooManyTxnOperations(count: Int, limit: Int)
    /// The database refuses writes (read-only file or directory, disk full).
    /// Reads keep working.
    case notWritable(reason: String)
    /// The backend failed in a way the caller cannot fix (I/O error, lost
    /// connection); `reason` says how.
    case backend(reason: String)
    /// The store is shutting down or closed.
    case closed

    public var description: String {
        switch self {
        case .compacted(let requested, let compactRevision):
            "required revision \(requested) has been compacted (compact revision \(compactRevision))"
        case .futureRevision(let requested, let current):
            "required revision \(requested) is a future revision (current revision \(current))"
        case .requestTooLarge(let bytes, let limit):
            "request is too large: \(bytes) bytes, limit \(limit)"
        case .emptyKey:
            "key is not provided"
        case .invalidRange(let reason):
            "invalid range: \(reason)"
        case .leaseNotFound(let id):
            "requested lease not found: \(id)"
        case .leaseExists(let id):
            "lease already exists: \(id)"
        case .invalidLeaseTTL(let ttl):
            "lease TTL \(ttl) is out of range"
        case .keyNotFound:
            "key not found"
        case .duplicateKeyInTxn:
            "duplicate key given in txn request"
        case .tooManyTxnOperations(let count, let limit):
            "too many operations in txn request: \(count), limit \(limit)"
        case .notWritable(let reason):
            "store is not writable: \(reason)"
        case .backend(let reason):
            "store backend failed: \(reason)"
        case .closed:
            "store is closed"
        }
    }
}

/// Request limits, the same as etcd's defaults so both backends refuse the
/// same requests.
public enum StoreLimits {
    /// etcd's `--max-request-bytes` default: 1.5 MiB.
    public static let maxRequestBytes = 1_572_864
    /// etcd's `--max-txn-ops` default.
    public static let maxTxnOperations = 128
    /// etcd's largest lease TTL, in seconds.
    public static let maxLeaseTTL: Int64 = 9_000_000_000
}
