/// What a reconcile pass asks for next.
public enum ReconcileResult: Sendable, Hashable {
    /// The object is as it should be; nothing to do until it changes again.
    case done
    /// Look again after this long (waiting on something that has no event, such as a timeout).
    case requeueAfter(Duration)
}

/// A level-based reconcile loop for one kind, as controller-runtime's `Reconciler`.
///
/// The contract: `reconcile` re-reads the current state for `key` (from an
/// informer cache or the client), makes one idempotent step towards the
/// desired state, and returns. It must not assume why it was called — an
/// add, an update, a delete, a retry and a resync all look the same. A thrown
/// error retries the key with rate-limited backoff; success resets it.
public protocol Reconciler: Sendable {
    func reconcile(_ key: ObjectKey) async throws -> ReconcileResult
}
