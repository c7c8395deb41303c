package import CapstanAPI
package import CapstanAPIServer
package import CapstanCore

/// A ``ClusterClient`` calling the registry directly: the single-binary setup.
///
/// Every call goes through `ResourceRegistry`, the same layer HTTP requests
/// reach after routing, so validation, defaulting and conflict checks are the same.
/// Its writers are Capstan's own components, so their writes skip policy
/// admission (see ``WriteOptions/policyAdmissionExempt``).
package struct InProcessClient: ClusterClient {
    let registry: ResourceRegistry
    /// Where token requests go; nil for a client of a bare registry, which serves none.
    let serviceAccountTokens: ServiceAccountTokens?

    package init(registry: ResourceRegistry) {
        self.registry = registry
        self.serviceAccountTokens = nil
    }

    init(registry: ResourceRegistry, serviceAccountTokens: ServiceAccountTokens) {
        self.registry = registry
        self.serviceAccountTokens = serviceAccountTokens
    }

    package func get(_ kind: KindInfo, namespace: String?, name: String) async throws -> JSONValue {
        try await registry.get(kind, namespace: namespace, name: name)
    }

    package func list(_ kind: KindInfo, namespace: String?, options: ListOptions) async throws -> ObjectList {
        try await registry.list(kind, namespace: namespace, options: options)
    }

    package func watch(_ kind: KindInfo, namespace: String?, options: ListOptions) -> WatchEvents {
        let registry = self.registry
        let (events, continuation) = WatchEvents.makeStream(bufferingPolicy: .unbounded)
        // The producer lives as long as the consumer iterates: when the
        // sequence is dropped or its task cancelled, onTermination cancels it.
        // (This is the one unstructured task here; it is owned by the stream.)
        let producer = Task {
            do {
                try await registry.watch(kind, namespace: namespace, options: options) { event in
                    continuation.yield(event)
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in producer.cancel() }
        return events
    }

    package func create(_ kind: KindInfo, namespace: String?, object: JSONValue, options: WriteOptions) async throws -> JSONValue {
        try await registry.create(kind, namespace: namespace, object: object, options: Self.exempt(options))
    }

    package func update(
        _ kind: KindInfo, namespace: String?, name: String, object: JSONValue, options: WriteOptions, subresource: String?
    ) async throws -> JSONValue {
        try checkSubresource(subresource, writable: registry.strategy(kind).writableSubresources)
        return try await registry.update(
            kind, namespace: namespace, name: name, object: object, options: Self.exempt(options), subresource: subresource)
    }

    package func patch(
        _ kind: KindInfo, namespace: String?, name: String, patch: PatchRequest, options: WriteOptions, subresource: String?
    ) async throws -> JSONValue {
        try checkSubresource(subresource, writable: ["status"])
        return try await registry.applyPatch(kind, namespace: namespace, name: name, patch, options: Self.exempt(options), subresource: subresource)
            .object
    }

    package func delete(_ kind: KindInfo, namespace: String?, name: String, options: DeleteOptions) async throws -> DeleteOutcome {
        try await registry.delete(
            kind, namespace: namespace, name: name, dryRun: options.dryRun, gracePeriodSeconds: options.gracePeriodSeconds,
            preconditionUID: options.preconditionUID)
    }

    package func bind(podNamespace: String, name: String, node: String, options: WriteOptions) async throws {
        _ = try await registry.bind(podNamespace: podNamespace, name: name, node: node, options: Self.exempt(options))
    }

    package func servedKinds() async throws -> [KindInfo] { registry.catalog.all }

    package func requestToken(serviceAccount name: String, namespace: String, request: JSONValue) async throws -> JSONValue {
        guard let serviceAccountTokens else {
            throw APIError(
                code: 404, reason: "NotFound",
                message: "the server could not find the requested resource (this client has no service-account token signer)")
        }
        return try await TokenRequests(tokens: serviceAccountTokens).answer(namespace: namespace, name: name, request)
    }

    /// Every write through this client is a component's own.
    private static func exempt(_ options: WriteOptions) -> WriteOptions {
        var options = options
        options.policyAdmissionExempt = true
        return options
    }

    private func checkSubresource(_ subresource: String?, writable: Set<String>) throws(APIError) {
        guard let subresource else { return }
        guard writable.contains(subresource) else {
            throw APIError(
                code: 404, reason: "NotFound", message: "the server could not find the requested resource (subresource \"\(subresource)\")")
        }
    }
}
