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
/// error retries the key with rate-limited backoff; success resets it; a
/// ``TerminalError`` is reported and never retried.
public protocol Reconciler: Sendable {
    func reconcile(_ key: ObjectKey) async throws -> ReconcileResult
}

/// An error retrying cannot fix — a spec that can never be satisfied, a
/// reference to something that is not allowed — as controller-runtime's
/// `reconcile.TerminalError`. Thrown from ``Reconciler/reconcile(_:)``, the key
/// is not retried (its backoff is forgotten); the runner reports it as a
/// Warning Event with `reason` about the object and, when `conditionType` is
/// set, as that condition (`status: "False"`, `reason`, `message`) in the
/// object's `status.conditions`. The object's next change reconciles it again.
public struct TerminalError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A CamelCase reason, the Event's and the condition's (`InvalidSelector`).
    public var reason: String
    /// What is wrong, for people.
    public var message: String
    /// The condition to set False, for objects that have conditions; nil for none.
    public var conditionType: String?

    public init(reason: String, message: String, conditionType: String? = nil) {
        self.reason = reason
        self.message = message
        self.conditionType = conditionType
    }

    public var description: String { "\(reason): \(message)" }
}
