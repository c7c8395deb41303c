public import CapstanCore

/// What a deletion did.
public enum DeleteOutcome: Sendable {
    /// Removed; the object as it last was.
    case deleted(JSONValue)
    /// Marked for deletion; finalizers or a node still have to let go.
    case pending(JSONValue)
}
