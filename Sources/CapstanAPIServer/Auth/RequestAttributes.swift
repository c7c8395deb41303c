/// What a request asks to do, in the terms Kubernetes' authorizers use:
/// a verb on a resource (`delete` `pods` `web-1` in `default`), or a verb on
/// a plain path (`get` `/metrics`).
struct RequestAttributes: Hashable, Sendable {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
    /// `deletecollection` for resources; the lower-cased HTTP method for paths.
    var verb: String
    var path: String
    /// nil for a non-resource request (discovery, health, `/status`, `/metrics`).
    var resource: Resource?

    struct Resource: Hashable, Sendable {
        var group: String
        var resource: String
        var subresource: String?
        var namespace: String?
        var name: String?

        /// `pods/status`, or `pods`.
        var resourceWithSubresource: String {
            subresource.map { "\(resource)/\($0)" } ?? resource
        }
    }

    init(verb: String, path: String, resource: Resource? = nil) {
        self.verb = verb
        self.path = path
        self.resource = resource
    }

    /// The attributes of an HTTP request, as the Kubernetes API server derives them.
    init(method: String, path: String, watch: Bool) {
        self.path = path
        guard let parsed = ResourcePath(path) else {
            verb = method.lowercased()
            resource = nil
            return
        }
        resource = Resource(
            group: parsed.group, resource: parsed.resource, subresource: parsed.subresource, namespace: parsed.namespace, name: parsed.name)
        switch method.uppercased() {
        case "GET", "HEAD": verb = parsed.name == nil ? (watch ? "watch" : "list") : "get"
        case "POST": verb = "create"
        case "PUT": verb = "update"
        case "PATCH": verb = "patch"
        case "DELETE": verb = parsed.name == nil ? "deletecollection" : "delete"
        default: verb = method.lowercased()
        }
    }

    static let readVerbs: Set<String> = ["get", "list", "watch"]

    var isRead: Bool { Self.readVerbs.contains(verb) }
}
