import CapstanCore

/// A request path of the Kubernetes API, taken apart:
/// `/apis/apps/v1/namespaces/shop/deployments/web/scale` →
/// group `apps`, version `v1`, namespace `shop`, resource `deployments`,
/// name `web`, subresource `scale`.
struct ResourcePath: Hashable {
    var group: String
    var version: String
    var namespace: String?
    var resource: String
    var name: String?
    var subresource: String?

    /// Parses a resource path; nil for anything else (discovery, health…).
    init?(_ path: String) {
        var segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard !segments.isEmpty else { return nil }
        switch segments.removeFirst() {
        case "api":
            guard segments.count >= 2 else { return nil }
            group = ""
            version = segments.removeFirst()
        case "apis":
            guard segments.count >= 3 else { return nil }
            group = segments.removeFirst()
            version = segments.removeFirst()
        default:
            return nil
        }
        // `namespaces/<ns>/<resource>…` is a namespaced resource, unless the
        // third segment is a namespace subresource (`namespaces/x/status`).
        if segments.count >= 3, segments[0] == "namespaces", !["status", "finalize"].contains(segments[2]) || segments.count > 3 {
            namespace = segments[1]
            segments.removeFirst(2)
        }
        guard !segments.isEmpty, segments.count <= 3 else { return nil }
        resource = segments[0]
        name = segments.count > 1 ? segments[1] : nil
        subresource = segments.count > 2 ? segments[2] : nil
    }

    /// The kind this path addresses, if the server serves it now.
    func kind(in catalog: KindCatalog) -> KindInfo? {
        catalog.kind(group: group, version: version, resource: resource)
    }
}
