package import CapstanAPI
package import CapstanClient
package import CapstanCore

/// What the GitOps engine needs from the cluster, and nothing more.
///
/// Owned here, by its consumer. Served by ``ClientGitOpsCluster`` over any
/// `ClusterClient` (in-process or HTTP), so GitOps writes get the same
/// validation, admission and encryption as kubectl's; unit tests use a fake.
/// Every write goes through server-side apply as field manager
/// ``GitOpsCluster/fieldManager``. Errors are the API's own `APIError`s.
package protocol GitOpsCluster: Sendable {
    /// Server-side applies `object` as `capstan-gitops`, taking over fields
    /// other managers hold (git wins). With `dryRun` nothing is stored, but
    /// every check runs. Returns the object as stored (or as it would be).
    func apply(_ object: JSONValue, dryRun: Bool) async throws(APIError) -> AppliedObject
    /// The live object, or nil when there is none.
    func get(_ identity: ObjectIdentity, apiVersion: String) async throws(APIError) -> JSONValue?
    /// Deletes the object in the background (dependents go by garbage collection).
    func delete(_ identity: ObjectIdentity, apiVersion: String) async throws(APIError)
    /// Objects of one kind in every namespace, optionally filtered by a label selector.
    func list(apiVersion: String, kind: String, labelSelector: String?) async throws(APIError) -> [JSONValue]
    /// Changes to objects of one kind in every namespace, for as long as the
    /// caller iterates: first every object that exists when the watch starts
    /// (as `ADDED`, as an informer lists before it watches, so nothing changed
    /// just before is missed), then each change. The sequence ends when the
    /// watch does; the caller starts a new one.
    func watch(_ kind: KindInfo) -> WatchEvents
    /// Every kind the cluster serves now: the built-in ones and those of its
    /// CustomResourceDefinitions, however they were installed.
    func servedKinds() async throws(APIError) -> [KindInfo]
}

extension GitOpsCluster {
    package static var fieldManager: String { "capstan-gitops" }

    /// A cluster without custom kinds (test fakes) serves the built-in ones.
    package func servedKinds() async throws(APIError) -> [KindInfo] { BuiltinKinds.all }
}

/// The result of one apply.
package struct AppliedObject: Sendable {
    package var object: JSONValue
    /// Whether the apply created the object (rather than changing or keeping it).
    package var created: Bool

    package init(object: JSONValue, created: Bool) {
        self.object = object
        self.created = created
    }
}

extension ObjectIdentity {
    /// The identity of the object a watch event carries.
    init(_ kind: KindInfo, event: WatchEvent) {
        let meta = event.object["metadata"]
        self.init(group: kind.group, kind: kind.kind, namespace: meta?["namespace"]?.stringValue ?? "", name: meta?["name"]?.stringValue ?? "")
    }
}
