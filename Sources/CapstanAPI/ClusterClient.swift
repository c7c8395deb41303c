public import CapstanCore

/// The one way Capstan's components read and write cluster state.
///
/// Implementations: `InProcessClient` (CapstanAPIServer, over its
/// `ResourceRegistry`, for the single binary) and `HTTPClusterClient`
/// (CapstanClient, against a remote API server). Both end in the same registry, so an
/// in-process write gets every check an HTTP write gets (defaulting,
/// validation, resourceVersion conflicts, field managers).
///
/// Errors are `APIError`s: the same code, reason and message a `Status` body carries.
public protocol ClusterClient: Sendable {
    /// One object. Throws a 404 `APIError` when it does not exist.
    func get(_ kind: KindInfo, namespace: String?, name: String) async throws -> JSONValue

    /// Objects matching the options' selectors, and the resourceVersion the list was read at
    /// (start a watch from there to miss nothing).
    func list(_ kind: KindInfo, namespace: String?, options: ListOptions) async throws -> ObjectList

    /// Changes after `options.resourceVersion` (or the current objects as `ADDED`
    /// first when it is empty or `"0"`). The sequence ends when the watch ends;
    /// a compacted resourceVersion ends it with an `ERROR` event holding a 410
    /// `Status`, or a thrown 410 `APIError`: list again then.
    func watch(_ kind: KindInfo, namespace: String?, options: ListOptions) -> WatchEvents

    /// Creates an object; the server sets its identity and resourceVersion.
    func create(_ kind: KindInfo, namespace: String?, object: JSONValue, options: WriteOptions) async throws -> JSONValue

    /// Replaces an object (or its `status` with `subresource: "status"`, or a
    /// namespace's `spec.finalizers` with `"finalize"`). A resourceVersion in
    /// the body must match the stored one, or 409 Conflict.
    func update(
        _ kind: KindInfo, namespace: String?, name: String, object: JSONValue, options: WriteOptions, subresource: String?
    ) async throws -> JSONValue

    /// Patches an object (or its `status`); conflicts with concurrent writers are retried.
    func patch(
        _ kind: KindInfo, namespace: String?, name: String, patch: PatchRequest, options: WriteOptions, subresource: String?
    ) async throws -> JSONValue

    /// Deletes an object; pods on a node and objects with finalizers are only marked.
    func delete(_ kind: KindInfo, namespace: String?, name: String, options: DeleteOptions) async throws -> DeleteOutcome

    /// `pods/{name}/binding`: assigns a pending pod to a node. 409 when it already has one.
    func bind(podNamespace: String, name: String, node: String, options: WriteOptions) async throws

    /// Every kind the server serves now (discovery): the built-in ones and
    /// those its CustomResourceDefinitions define.
    func servedKinds() async throws -> [KindInfo]

    /// `serviceaccounts/{name}/token`: a signed token for the account, described
    /// by an `authentication.k8s.io/v1` TokenRequest; answered with that request,
    /// `status.token` and `status.expirationTimestamp` filled in. Never stored.
    func requestToken(serviceAccount name: String, namespace: String, request: JSONValue) async throws -> JSONValue
}

/// How to delete.
public struct DeleteOptions: Sendable, Hashable {
    public var gracePeriodSeconds: Int64?
    /// Only delete the object with this uid (409 otherwise).
    public var preconditionUID: String?
    public var dryRun: Bool

    public init(gracePeriodSeconds: Int64? = nil, preconditionUID: String? = nil, dryRun: Bool = false) {
        self.gracePeriodSeconds = gracePeriodSeconds
        self.preconditionUID = preconditionUID
        self.dryRun = dryRun
    }
}

/// The events of one watch, in order.
public typealias WatchEvents = AsyncThrowingStream<WatchEvent, any Error>

extension ClusterClient {
    /// A client of a server without custom kinds (test fakes) serves the built-in ones.
    public func servedKinds() async throws -> [KindInfo] { BuiltinKinds.all }

    public func update(_ kind: KindInfo, namespace: String?, name: String, object: JSONValue, options: WriteOptions) async throws -> JSONValue {
        try await update(kind, namespace: namespace, name: name, object: object, options: options, subresource: nil)
    }

    public func patch(_ kind: KindInfo, namespace: String?, name: String, patch: PatchRequest, options: WriteOptions) async throws -> JSONValue {
        try await self.patch(kind, namespace: namespace, name: name, patch: patch, options: options, subresource: nil)
    }

    /// A typed object; throws when the stored object is not of that kind.
    public func get<Object: TypedObject>(_ type: Object.Type, namespace: String?, name: String) async throws -> Object {
        let value = try await get(Object.kindInfo, namespace: namespace, name: name)
        guard let object = Unstructured(jsonValue: value).flatMap({ Object($0) }) else {
            throw APIError.internalError("\(Object.kindInfo.resource) \"\(name)\" is not a \(Object.kindInfo.kind)")
        }
        return object
    }
}
