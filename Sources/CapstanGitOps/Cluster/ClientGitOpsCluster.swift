package import CapstanAPI
package import CapstanClient
package import CapstanCore

/// The GitOps engine's view of the cluster over a `ClusterClient`: in-process
/// (the registry, the path a kubectl request takes after routing) or HTTP
/// against a remote API server. A thin layer: it names objects the way the
/// engine does (identity + apiVersion) and turns "not found" into nil.
package struct ClientGitOpsCluster: GitOpsCluster {
    let client: any ClusterClient

    package init(client: any ClusterClient) {
        self.client = client
    }

    package func apply(_ object: JSONValue, dryRun: Bool) async throws(APIError) -> AppliedObject {
        let info = try await servedKind(object["apiVersion"]?.stringValue ?? "", object["kind"]?.stringValue ?? "")
        let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
        let namespace = info.namespaced ? (object[path: ["metadata", "namespace"]]?.stringValue ?? "default") : nil
        // The client's apply answers with the object only; the sync record
        // counts creations, so a real write first asks whether it exists.
        var created = false
        if !dryRun {
            created = try await Self.call { try await readIfPresent(info, namespace: namespace, name: name) } == nil
        }
        let stored = try await Self.call {
            try await client.patch(
                info, namespace: namespace, name: name, patch: .apply(object, force: true),
                options: WriteOptions(fieldManager: Self.fieldManager, dryRun: dryRun))
        }
        return AppliedObject(object: stored, created: created)
    }

    package func get(_ identity: ObjectIdentity, apiVersion: String) async throws(APIError) -> JSONValue? {
        let info = try await servedKind(apiVersion, identity.kind)
        return try await Self.call { try await readIfPresent(info, namespace: info.namespaced ? identity.namespace : nil, name: identity.name) }
    }

    package func delete(_ identity: ObjectIdentity, apiVersion: String) async throws(APIError) {
        let info = try await servedKind(apiVersion, identity.kind)
        try await Self.call {
            do {
                _ = try await client.delete(
                    info, namespace: info.namespaced ? identity.namespace : nil, name: identity.name, options: DeleteOptions())
            } catch let error as APIError where error.code == 404 {
                return
            }
        }
    }

    package func list(apiVersion: String, kind: String, labelSelector: String?) async throws(APIError) -> [JSONValue] {
        let info = try await servedKind(apiVersion, kind)
        var options = ListOptions()
        if let labelSelector {
            do {
                options.labelSelector = try LabelSelector(parsing: labelSelector)
            } catch {
                throw APIError.badRequest("\(error)")
            }
        }
        return try await Self.call { try await client.list(info, namespace: nil, options: options).items }
    }

    package func watch(_ kind: KindInfo) -> WatchEvents {
        // No resourceVersion: the objects as they are come first.
        client.watch(kind, namespace: nil, options: ListOptions())
    }

    private func readIfPresent(_ info: KindInfo, namespace: String?, name: String) async throws -> JSONValue? {
        do {
            return try await client.get(info, namespace: namespace, name: name)
        } catch let error as APIError where error.code == 404 {
            return nil
        }
    }

    /// The kind an object names: a built-in one, or one the server's
    /// discovery lists now (asked each time, since definitions come and go).
    private func servedKind(_ apiVersion: String, _ kind: String) async throws(APIError) -> KindInfo {
        if let info = BuiltinKinds.lookup(apiVersion: apiVersion, kind: kind) { return info }
        let served = try await Self.call { try await client.servedKinds() }
        guard let info = served.first(where: { $0.apiVersion == apiVersion && $0.kind == kind }) else {
            throw APIError(
                code: 404, reason: "NotFound",
                message: "no matches for kind \"\(kind)\" in version \"\(apiVersion)\"; ensure CRDs are installed first")
        }
        return info
    }

    package func servedKinds() async throws(APIError) -> [KindInfo] {
        try await Self.call { try await client.servedKinds() }
    }

    /// Runs a client call; a failure that is not the API's own (the
    /// connection to a remote server broke) becomes a 503 `APIError`.
    private static func call<T>(_ body: () async throws -> T) async throws(APIError) -> T {
        do {
            return try await body()
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(code: 503, reason: "ServiceUnavailable", message: "the API server could not be reached: \(error)")
        }
    }
}
