public import CapstanCore

/// A patch body and how to read it, as the `Content-Type` of a PATCH request says.
public enum PatchRequest: Sendable, Hashable {
    /// `application/json-patch+json`: a list of operations.
    case json(JSONValue)
    /// `application/merge-patch+json` (RFC 7386).
    case merge(JSONValue)
    /// `application/strategic-merge-patch+json`: lists merged by their merge keys.
    case strategic(JSONValue)
    /// `application/apply-patch+yaml`: server-side apply of a configuration.
    case apply(JSONValue, force: Bool)
}
