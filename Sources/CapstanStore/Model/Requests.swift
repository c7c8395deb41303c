public import Foundation

/// How a range orders its results.
public enum SortOrder: Sendable, Hashable {
    case none
    case ascending
    case descending
}

/// Which field a range sorts on.
public enum SortTarget: Sendable, Hashable {
    case key
    case version
    case createRevision
    case modRevision
    case value
}

/// A read of a key range at the latest or a past revision.
public struct RangeRequest: Sendable, Hashable {
    public var range: KeyRange
    /// The revision to read at; `0` or less means the latest.
    public var revision: Revision = 0
    /// At most this many keys are returned; `0` means no limit.
    public var limit: Int64 = 0
    public var countOnly = false
    public var keysOnly = false
    public var sortOrder: SortOrder = .none
    public var sortTarget: SortTarget = .key

    public init(
        _ range: KeyRange, revision: Revision = 0, limit: Int64 = 0, countOnly: Bool = false,
        keysOnly: Bool = false, sortOrder: SortOrder = .none, sortTarget: SortTarget = .key
    ) {
        self.range = range
        self.revision = revision
        self.limit = limit
        self.countOnly = countOnly
        self.keysOnly = keysOnly
        self.sortOrder = sortOrder
        self.sortTarget = sortTarget
    }
}

/// The answer to a ``RangeRequest``.
public struct RangeResult: Sendable, Hashable {
    /// The matching keys (empty when `countOnly`), after sorting and `limit`.
    public var kvs: [KeyValue]
    /// Whether keys beyond `limit` matched.
    public var more: Bool
    /// How many keys matched, regardless of `limit`.
    public var count: Int64
    /// The store revision the read was served at (the latest revision when
    /// reading at the latest, as etcd's response header does).
    public var headerRevision: Revision

    public init(kvs: [KeyValue], more: Bool, count: Int64, headerRevision: Revision) {
        self.kvs = kvs
        self.more = more
        self.count = count
        self.headerRevision = headerRevision
    }
}

/// A write of one key.
public struct PutRequest: Sendable, Hashable {
    public var key: Data
    public var value: Data
    /// Attach the key to this lease (`0`: none). The lease must exist.
    public var lease: LeaseID = 0
    /// Return the previous key-value in the result.
    public var returnPrevious = false
    /// Keep the current value (the key must exist).
    public var ignoreValue = false
    /// Keep the current lease (the key must exist).
    public var ignoreLease = false

    public init(
        key: Data, value: Data, lease: LeaseID = 0, returnPrevious: Bool = false,
        ignoreValue: Bool = false, ignoreLease: Bool = false
    ) {
        self.key = key
        self.value = value
        self.lease = lease
        self.returnPrevious = returnPrevious
        self.ignoreValue = ignoreValue
        self.ignoreLease = ignoreLease
    }
}

/// The answer to a ``PutRequest``.
public struct PutResult: Sendable, Hashable {
    /// The revision the put was committed at.
    public var revision: Revision
    public var previous: KeyValue?

    public init(revision: Revision, previous: KeyValue? = nil) {
        self.revision = revision
        self.previous = previous
    }
}

/// A deletion of every key in a range.
public struct DeleteRequest: Sendable, Hashable {
    public var range: KeyRange
    public var returnPrevious = false

    public init(_ range: KeyRange, returnPrevious: Bool = false) {
        self.range = range
        self.returnPrevious = returnPrevious
    }
}

/// The answer to a ``DeleteRequest``.
public struct DeleteResult: Sendable, Hashable {
    /// The store's revision after the delete: the new revision if any key was
    /// deleted, otherwise the unchanged latest revision.
    public var revision: Revision
    public var deleted: Int64
    public var previous: [KeyValue]

    public init(revision: Revision, deleted: Int64, previous: [KeyValue] = []) {
        self.revision = revision
        self.deleted = deleted
        self.previous = previous
    }
}

/// One comparison of a txn guard; it holds when it holds for every key in
/// `range`. As in etcd, an absent key compares as version, create and mod
/// revision and lease 0, except that a value comparison on an absent key
/// never holds.
public struct Compare: Sendable, Hashable {
    public enum Target: Sendable, Hashable {
        case version(Int64)
        case createRevision(Revision)
        case modRevision(Revision)
        case value(Data)
        case lease(LeaseID)
    }

    public enum Operator: Sendable, Hashable {
        case equal
        case notEqual
        case greater
        case less
    }

    public var range: KeyRange
    public var target: Target
    public var op: Operator

    public init(_ range: KeyRange, _ target: Target, _ op: Operator) {
        self.range = range
        self.target = target
        self.op = op
    }

    /// Compares one key.
    public init(key: Data, _ target: Target, _ op: Operator) {
        self.init(.single(key), target, op)
    }
}

/// One operation inside a txn branch.
public indirect enum TxnOperation: Sendable, Hashable {
    case range(RangeRequest)
    case put(PutRequest)
    case delete(DeleteRequest)
    case txn(TxnRequest)
}

/// The result of one ``TxnOperation``.
public indirect enum TxnOperationResult: Sendable, Hashable {
    case range(RangeResult)
    case put(PutResult)
    case delete(DeleteResult)
    case txn(TxnResult)
}

/// An atomic compare-then-else: if every comparison holds, `success` runs,
/// otherwise `failure`; all writes of the chosen branch share one revision.
public struct TxnRequest: Sendable, Hashable {
    public var compare: [Compare]
    public var success: [TxnOperation]
    public var failure: [TxnOperation]

    public init(compare: [Compare] = [], success: [TxnOperation] = [], failure: [TxnOperation] = []) {
        self.compare = compare
        self.success = success
        self.failure = failure
    }
}

/// The answer to a ``TxnRequest``.
public struct TxnResult: Sendable, Hashable {
    /// The store's revision after the txn (advanced by one if it wrote).
    public var revision: Revision
    public var succeeded: Bool
    public var results: [TxnOperationResult]

    public init(revision: Revision, succeeded: Bool, results: [TxnOperationResult]) {
        self.revision = revision
        self.succeeded = succeeded
        self.results = results
    }
}

/// A granted lease.
public struct LeaseGrant: Sendable, Hashable {
    public var id: LeaseID
    /// The time-to-live in seconds the store chose (at least the requested one
    /// or the backend's minimum).
    public var ttl: Int64

    public init(id: LeaseID, ttl: Int64) {
        self.id = id
        self.ttl = ttl
    }
}

/// What the store knows about one lease.
public struct LeaseInfo: Sendable, Hashable {
    public var id: LeaseID
    /// Seconds left before the lease expires.
    public var remainingTTL: Int64
    /// The TTL the lease was granted with.
    public var grantedTTL: Int64
    /// The keys attached, when asked for.
    public var keys: [Data]

    public init(id: LeaseID, remainingTTL: Int64, grantedTTL: Int64, keys: [Data]) {
        self.id = id
        self.remainingTTL = remainingTTL
        self.grantedTTL = grantedTTL
        self.keys = keys
    }
}

/// Store-wide facts for status endpoints.
public struct StoreStatus: Sendable, Hashable {
    public var revision: Revision
    public var compactRevision: Revision
    /// Bytes the store's files take on disk.
    public var sizeOnDisk: Int64

    public init(revision: Revision, compactRevision: Revision, sizeOnDisk: Int64) {
        self.revision = revision
        self.compactRevision = compactRevision
        self.sizeOnDisk = sizeOnDisk
    }
}
