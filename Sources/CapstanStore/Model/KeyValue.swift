public import Foundation

/// A store revision: a global, gap-free counter that every committed write
/// (a put, a delete of at least one key, or a txn that writes) advances by one.
public typealias Revision = Int64

/// A lease identifier; `0` means "no lease".
public typealias LeaseID = Int64

/// One key with its value and MVCC metadata, as of some revision.
public struct KeyValue: Sendable, Hashable {
    /// The key bytes; never empty.
    public var key: Data
    /// The value bytes; empty when a range was `keysOnly`.
    public var value: Data
    /// The revision of the write that created this key (since it last did not exist).
    public var createRevision: Revision
    /// The revision of the last write to this key.
    public var modRevision: Revision
    /// How many times the key was written since it was created; 1 after creation.
    public var version: Int64
    /// The lease the key is attached to, or `0`.
    public var lease: LeaseID

    public init(
        key: Data, value: Data, createRevision: Revision, modRevision: Revision,
        version: Int64, lease: LeaseID
    ) {
        self.key = key
        self.value = value
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.version = version
        self.lease = lease
    }
}

/// One change to one key, as delivered to watchers.
public struct Event: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case put
        case delete
    }

    public var kind: Kind
    /// For a put, the new key-value; for a delete, the key with `modRevision`
    /// set to the deleting revision and every other field zero.
    public var kv: KeyValue
    /// The key-value before this change, when the watcher asked for it and
    /// the key existed.
    public var previous: KeyValue?

    public init(kind: Kind, kv: KeyValue, previous: KeyValue? = nil) {
        self.kind = kind
        self.kv = kv
        self.previous = previous
    }

    /// The revision this event was committed at.
    public var revision: Revision { kv.modRevision }
}
