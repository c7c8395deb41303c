import CapstanAPI

/// Decides whether a user may do what a request asks. It is pure — no I/O —
/// so every role boundary is a table-driven unit test; where the answer
/// depends on an object (is this pod bound to the asking node?) it returns a
/// condition for ``AccessControl`` to check.
///
/// The roles mirror Kubernetes': admin is `cluster-admin`; viewer is the
/// `view` ClusterRole (reads everything but Secrets); node is the node
/// authorizer plus NodeRestriction admission, simplified: a node reads a
/// Secret or ConfigMap by name only when a pod bound to it uses it.
enum Authorizer {
    enum Decision: Hashable, Sendable {
        case allow
        case deny
        /// Allowed only if the condition holds.
        case allowIf(Condition)
    }

    enum Condition: Hashable, Sendable {
        /// The object in the create request's body is named this: a node
        /// creating its own Node or its own Lease.
        case createsObjectNamed(String)
        /// The addressed pod is bound to this node (`spec.nodeName`).
        case podBoundToNode(String)
        /// The addressed Secret or ConfigMap is used by a pod bound to this node.
        case usedByPodOnNode(String)
        /// The TokenRequest in the body is bound to a pod (by name and uid) that
        /// is bound to this node and runs as the addressed ServiceAccount, as
        /// Kubernetes' NodeRestriction requires: a node gets only tokens that end with its pods.
        case tokenForPodOnNode(String)
    }

    /// Paths open without a token, as Kubernetes' `system:public-info-viewer` role opens them.
    static let publicPaths: Set<String> = ["/healthz", "/livez", "/readyz", "/version", "/version/"]

    static func isPublic(_ request: RequestAttributes) -> Bool {
        request.resource == nil && ["get", "head"].contains(request.verb)
            && (publicPaths.contains(request.path) || ["/healthz/", "/livez/", "/readyz/"].contains { request.path.hasPrefix($0) })
    }

    /// API discovery and OpenAPI documents, which every signed-in user may read (`system:discovery`).
    static func isDiscovery(_ request: RequestAttributes) -> Bool {
        let path = request.path
        return request.resource == nil && ["get", "head"].contains(request.verb)
            && (path == "/api" || path.hasPrefix("/api/") || path == "/apis" || path.hasPrefix("/apis/") || path == "/openapi"
                || path.hasPrefix("/openapi/"))
    }

    static func decide(_ user: User, _ request: RequestAttributes) -> Decision {
        switch user.role {
        case .admin: return .allow
        case .viewer: return viewer(request)
        case .node(let node): return self.node(node, request)
        // Nothing built in; the RBAC authorizer after this one may allow it.
        case .rbacOnly: return .deny
        }
    }

    /// Endpoints other modules add (GitOps `/history`, `/sync`…): readers are
    /// admins and viewers, writers admins only; nodes call none of them.
    static func decide(_ user: User, route access: APIRoute.Access) -> Decision {
        switch (access, user.role) {
        case (.anyone, _), (_, .admin), (.reader, .viewer): .allow
        default: .deny
        }
    }

    // MARK: viewer

    /// Subresources that are views of their object, readable by a viewer.
    static let readableSubresources: Set<String> = ["status", "scale", "log"]

    private static func viewer(_ request: RequestAttributes) -> Decision {
        guard let resource = request.resource else {
            // Discovery, health, /version, /status and /metrics: reads only.
            return ["get", "head"].contains(request.verb) ? .allow : .deny
        }
        guard request.isRead else { return .deny }
        if resource.group == "" && resource.resource == "secrets" { return .deny }
        if let subresource = resource.subresource, !readableSubresources.contains(subresource) { return .deny }
        return .allow
    }

    // MARK: node

    /// Core resources a node agent reads to run its pods.
    static let nodeReadable: Set<String> = ["pods", "nodes", "services", "endpoints", "namespaces"]

    private static func node(_ node: String, _ request: RequestAttributes) -> Decision {
        guard let resource = request.resource else {
            return isPublic(request) || isDiscovery(request) ? .allow : .deny
        }
        let verb = request.verb
        if request.isRead, resource.group == "", nodeReadable.contains(resource.resource),
            resource.subresource == nil || resource.subresource == "status"
        {
            return .allow
        }
        switch (resource.group, resource.resource) {
        case ("", "configmaps"), ("", "secrets"):
            // One by name, and only what its pods use: never a list of every Secret.
            return verb == "get" && resource.name != nil && resource.subresource == nil ? .allowIf(.usedByPodOnNode(node)) : .deny
        case ("", "nodes"):
            // Its own Node object and its status; nothing else among nodes.
            guard resource.subresource == nil || resource.subresource == "status" else { return .deny }
            if verb == "create" { return resource.subresource == nil && resource.name == nil ? .allowIf(.createsObjectNamed(node)) : .deny }
            // Never delete: a node that deleted its Node could register it again
            // without the taints, cordon and labels the cluster gave it.
            guard resource.name == node else { return .deny }
            return ["update", "patch"].contains(verb) ? .allow : .deny
        case ("coordination.k8s.io", "leases"):
            // Its heartbeat: the Lease named after it in kube-node-lease.
            guard resource.namespace == "kube-node-lease", resource.subresource == nil else { return .deny }
            if verb == "create" { return resource.name == nil ? .allowIf(.createsObjectNamed(node)) : .deny }
            return resource.name == node && ["get", "update", "patch", "delete"].contains(verb) ? .allow : .deny
        case ("", "pods"):
            // Status of the pods bound to it, and the end of their graceful deletion.
            guard resource.name != nil else { return .deny }
            if resource.subresource == "status", ["update", "patch"].contains(verb) { return .allowIf(.podBoundToNode(node)) }
            if resource.subresource == nil, verb == "delete" { return .allowIf(.podBoundToNode(node)) }
            return .deny
        case ("", "serviceaccounts"):
            // Tokens for the projected volumes of its pods: bound to one of them, for the account it runs as.
            return verb == "create" && resource.name != nil && resource.subresource == "token" ? .allowIf(.tokenForPodOnNode(node)) : .deny
        case ("discovery.k8s.io", "endpointslices"):
            // Its proxy and DNS answer from every Service's endpoints.
            return request.isRead ? .allow : .deny
        case ("", "events"), ("events.k8s.io", "events"):
            return ["create", "update", "patch"].contains(verb) ? .allow : .deny
        default:
            return .deny
        }
    }
}
