public import CapstanCore

/// What the GitOps engine needs from the cluster, and nothing more.
///
/// Owned here, by its consumer: the `capstan` binary hands in an
/// implementation over the API server's registry (so GitOps writes get the
/// same validation, admission and encryption as kubectl's), tests a fake.
/// Every write goes through server-side apply as field manager
/// ``GitOpsCluster/fieldManager``.
public protocol GitOpsCluster: Sendable {
    /// Server-side applies `object` as `capstan-gitops`, taking over fields
    /// other managers hold (git wins). With `dryRun` nothing is stored, but
    /// every check runs. Returns the object as stored (or as it would be).
    func apply(_ object: JSONValue, dryRun: Bool) async throws(ClusterError) -> AppliedObject
    /// The live object, or nil when there is none.
    func get(_ identity: ObjectIdentity, apiVersion: String) async throws(ClusterError) -> JSONValue?
    /// Deletes the object in the background (dependents go by garbage collection).
    func delete(_ identity: ObjectIdentity, apiVersion: String) async throws(ClusterError)
    /// Objects of one kind in every namespace, optionally filtered by a label selector.
    func list(apiVersion: String, kind: String, labelSelector: String?) async throws(ClusterError) -> [JSONValue]
    /// Identities of objects of these kinds as they change, for as long as
    /// the caller iterates, starting with every object that exists when the
    /// stream (or a watch behind it) starts, so that nothing changed just
    /// before is missed. Used to check drift as soon as someone edits.
    func changes(of kinds: [KindInfo]) -> AsyncStream<ObjectIdentity>
}

extension GitOpsCluster {
    public static var fieldManager: String { "capstan-gitops" }
}

/// The result of one apply.
public struct AppliedObject: Sendable {
    public var object: JSONValue
    /// Whether the apply created the object (rather than changing or keeping it).
    public var created: Bool

    public init(object: JSONValue, created: Bool) {
        self.object = object
        self.created = created
    }
}

/// A cluster request that failed: the API's HTTP code, reason and message.
public struct ClusterError: Error, Hashable, Sendable, CustomStringConvertible {
    public var code: Int
    public var reason: String
    public var message: String

    public init(code: Int, reason: String, message: String) {
        self.code = code
        self.reason = reason
        self.message = message
    }

    public var description: String { message }
}
