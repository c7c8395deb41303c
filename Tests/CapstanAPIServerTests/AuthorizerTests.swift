import CapstanAPI
import Testing

@testable import CapstanAPIServer

/// One row: who asks, what they ask (method and path, as on the wire), and the ruling.
struct AuthorizationCase: CustomTestStringConvertible, Sendable {
    var role: Role
    var method: String
    var path: String
    var watch = false
    var expected: Authorizer.Decision

    var testDescription: String { "\(role) \(method) \(path)\(watch ? "?watch" : "") → \(expected)" }
}

private let admin = Role.admin
private let viewer = Role.viewer
private let n1 = Role.node("n1")

@Suite struct AuthorizerTests {
    static let cases: [AuthorizationCase] = [
        // admin: everything.
        .init(role: admin, method: "DELETE", path: "/api/v1/namespaces/default/pods/x", expected: .allow),
        .init(role: admin, method: "GET", path: "/api/v1/namespaces/default/secrets/s", expected: .allow),
        .init(role: admin, method: "POST", path: "/api/v1/nodes", expected: .allow),
        .init(role: admin, method: "GET", path: "/metrics", expected: .allow),
        // viewer: reads everything but Secrets; never writes.
        .init(role: viewer, method: "GET", path: "/api/v1/namespaces/default/pods", expected: .allow),
        .init(role: viewer, method: "GET", path: "/api/v1/pods", watch: true, expected: .allow),
        .init(role: viewer, method: "GET", path: "/apis/apps/v1/namespaces/shop/deployments/web/scale", expected: .allow),
        .init(role: viewer, method: "GET", path: "/api/v1/namespaces/default/pods/x/log", expected: .allow),
        .init(role: viewer, method: "GET", path: "/api/v1/nodes/n1/status", expected: .allow),
        .init(role: viewer, method: "DELETE", path: "/api/v1/namespaces/default/pods/x", expected: .deny),
        .init(role: viewer, method: "POST", path: "/api/v1/namespaces/default/configmaps", expected: .deny),
        .init(role: viewer, method: "PATCH", path: "/apis/apps/v1/namespaces/shop/deployments/web/scale", expected: .deny),
        .init(role: viewer, method: "DELETE", path: "/api/v1/namespaces/default/configmaps", expected: .deny),
        .init(role: viewer, method: "GET", path: "/api/v1/namespaces/default/secrets", expected: .deny),
        .init(role: viewer, method: "GET", path: "/api/v1/namespaces/default/secrets/s", expected: .deny),
        .init(role: viewer, method: "GET", path: "/api/v1/secrets", watch: true, expected: .deny),
        .init(role: viewer, method: "POST", path: "/api/v1/namespaces/default/pods/x/binding", expected: .deny),
        .init(role: viewer, method: "GET", path: "/status", expected: .allow),
        .init(role: viewer, method: "GET", path: "/metrics", expected: .allow),
        .init(role: viewer, method: "GET", path: "/apis", expected: .allow),
        .init(role: viewer, method: "POST", path: "/status", expected: .deny),
        // node: reads what it runs pods with, writes only its own things.
        .init(role: n1, method: "GET", path: "/api/v1/pods", watch: true, expected: .allow),
        .init(role: n1, method: "GET", path: "/api/v1/namespaces/default/secrets/s", expected: .allowIf(.usedByPodOnNode("n1"))),
        .init(role: n1, method: "GET", path: "/api/v1/namespaces/default/configmaps/c", expected: .allowIf(.usedByPodOnNode("n1"))),
        .init(role: n1, method: "GET", path: "/api/v1/namespaces/default/configmaps", expected: .deny),
        // Tokens for its pods' projected volumes, for an account one of them runs as; nothing else about accounts.
        .init(
            role: n1, method: "POST", path: "/api/v1/namespaces/default/serviceaccounts/default/token", expected: .allowIf(.tokenForPodOnNode("n1"))),
        .init(role: n1, method: "GET", path: "/api/v1/namespaces/default/serviceaccounts/default", expected: .deny),
        .init(role: n1, method: "POST", path: "/api/v1/namespaces/default/serviceaccounts", expected: .deny),
        .init(role: n1, method: "GET", path: "/api/v1/secrets", watch: true, expected: .deny),
        .init(role: n1, method: "GET", path: "/api/v1/nodes/n2", expected: .allow),
        .init(role: n1, method: "GET", path: "/apis/apps/v1/deployments", expected: .deny),
        .init(role: n1, method: "POST", path: "/api/v1/nodes", expected: .allowIf(.createsObjectNamed("n1"))),
        .init(role: n1, method: "PUT", path: "/api/v1/nodes/n1", expected: .allow),
        .init(role: n1, method: "PATCH", path: "/api/v1/nodes/n1/status", expected: .allow),
        .init(role: n1, method: "PATCH", path: "/api/v1/nodes/n2/status", expected: .deny),
        .init(role: n1, method: "PUT", path: "/api/v1/nodes/n2", expected: .deny),
        .init(role: n1, method: "DELETE", path: "/api/v1/nodes/n2", expected: .deny),
        // Not even its own: it could register again without the cluster's taints and labels.
        .init(role: n1, method: "DELETE", path: "/api/v1/nodes/n1", expected: .deny),
        .init(role: n1, method: "DELETE", path: "/api/v1/nodes", expected: .deny),
        .init(role: n1, method: "PATCH", path: "/api/v1/namespaces/default/pods/x/status", expected: .allowIf(.podBoundToNode("n1"))),
        .init(role: n1, method: "PUT", path: "/api/v1/namespaces/default/pods/x/status", expected: .allowIf(.podBoundToNode("n1"))),
        .init(role: n1, method: "DELETE", path: "/api/v1/namespaces/default/pods/x", expected: .allowIf(.podBoundToNode("n1"))),
        .init(role: n1, method: "PATCH", path: "/api/v1/namespaces/default/pods/x", expected: .deny),
        .init(role: n1, method: "POST", path: "/api/v1/namespaces/default/pods", expected: .deny),
        .init(role: n1, method: "POST", path: "/api/v1/namespaces/default/pods/x/binding", expected: .deny),
        .init(role: n1, method: "POST", path: "/api/v1/namespaces/default/secrets", expected: .deny),
        .init(role: n1, method: "PUT", path: "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1", expected: .allow),
        .init(role: n1, method: "GET", path: "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1", expected: .allow),
        .init(
            role: n1, method: "POST", path: "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
            expected: .allowIf(.createsObjectNamed("n1"))),
        .init(role: n1, method: "PUT", path: "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n2", expected: .deny),
        .init(role: n1, method: "PUT", path: "/apis/coordination.k8s.io/v1/namespaces/default/leases/n1", expected: .deny),
        .init(role: n1, method: "POST", path: "/api/v1/namespaces/default/events", expected: .allow),
        .init(role: n1, method: "PATCH", path: "/apis/events.k8s.io/v1/namespaces/default/events/e", expected: .allow),
        .init(role: n1, method: "DELETE", path: "/api/v1/namespaces/default/events/e", expected: .deny),
        .init(role: n1, method: "GET", path: "/api/v1", expected: .allow),
        // EndpointSlices: a node's proxy and DNS read every Service's; only admins write them.
        .init(role: n1, method: "GET", path: "/apis/discovery.k8s.io/v1/endpointslices", watch: true, expected: .allow),
        .init(role: n1, method: "GET", path: "/apis/discovery.k8s.io/v1/namespaces/demo/endpointslices/web-x", expected: .allow),
        .init(role: n1, method: "POST", path: "/apis/discovery.k8s.io/v1/namespaces/demo/endpointslices", expected: .deny),
        .init(role: n1, method: "DELETE", path: "/apis/discovery.k8s.io/v1/namespaces/demo/endpointslices/web-x", expected: .deny),
        .init(role: viewer, method: "GET", path: "/apis/discovery.k8s.io/v1/endpointslices", expected: .allow),
        .init(role: viewer, method: "PUT", path: "/apis/discovery.k8s.io/v1/namespaces/demo/endpointslices/web-x", expected: .deny),
        .init(role: admin, method: "POST", path: "/apis/discovery.k8s.io/v1/namespaces/demo/endpointslices", expected: .allow),
        .init(role: n1, method: "GET", path: "/status", expected: .deny),
        .init(role: n1, method: "GET", path: "/metrics", expected: .deny),
    ]

    @Test(arguments: cases) func rules(_ row: AuthorizationCase) {
        let user = User(name: "someone", role: row.role)
        let attributes = RequestAttributes(method: row.method, path: row.path, watch: row.watch)
        #expect(Authorizer.decide(user, attributes) == row.expected)
    }

    @Test(arguments: ["/healthz", "/livez", "/readyz", "/version", "/healthz/ping"])
    func healthAndVersionAreOpen(_ path: String) {
        #expect(Authorizer.isPublic(RequestAttributes(method: "GET", path: path, watch: false)))
    }

    @Test(arguments: ["/api", "/apis", "/api/v1", "/status", "/metrics", "/api/v1/pods", "/openapi/v3", "/apis/discovery.k8s.io/v1/endpointslices"])
    func everythingElseNeedsAToken(_ path: String) {
        #expect(!Authorizer.isPublic(RequestAttributes(method: "GET", path: path, watch: false)))
    }

    @Test func addedRoutesFollowTheirAccessLevel() {
        let viewer = User(name: "viewer", role: .viewer)
        let node = User(name: "system:node:n1", role: .node("n1"))
        let admin = User(name: "admin", role: .admin)
        #expect(Authorizer.decide(viewer, route: .reader) == .allow)
        #expect(Authorizer.decide(viewer, route: .writer) == .deny)
        #expect(Authorizer.decide(node, route: .reader) == .deny)
        #expect(Authorizer.decide(admin, route: .writer) == .allow)
        #expect(Authorizer.decide(node, route: .anyone) == .allow)
    }

    @Test func verbsFollowKubernetes() {
        #expect(RequestAttributes(method: "GET", path: "/api/v1/pods", watch: false).verb == "list")
        #expect(RequestAttributes(method: "GET", path: "/api/v1/pods", watch: true).verb == "watch")
        #expect(RequestAttributes(method: "GET", path: "/api/v1/namespaces/a/pods/p", watch: false).verb == "get")
        #expect(RequestAttributes(method: "DELETE", path: "/api/v1/namespaces/a/pods", watch: false).verb == "deletecollection")
        #expect(RequestAttributes(method: "PUT", path: "/api/v1/namespaces/a/pods/p/status", watch: false).resource?.subresource == "status")
        #expect(RequestAttributes(method: "POST", path: "/status", watch: false).verb == "post")
    }

    @Test func forbiddenMessagesReadLikeKubernetes() {
        let viewer = User(name: "viewer", role: .viewer)
        let delete = RequestAttributes(method: "DELETE", path: "/api/v1/namespaces/default/pods/x", watch: false)
        #expect(
            APIError.forbidden(viewer, delete).message
                == #"pods "x" is forbidden: User "viewer" cannot delete resource "pods" in API group "" in the namespace "default""#)
        let list = RequestAttributes(method: "GET", path: "/apis/apps/v1/deployments", watch: false)
        #expect(
            APIError.forbidden(viewer, list).message
                == #"deployments.apps is forbidden: User "viewer" cannot list resource "deployments" in API group "apps" at the cluster scope"#)
        let status = RequestAttributes(method: "PATCH", path: "/api/v1/nodes/n2/status", watch: false)
        #expect(
            APIError.forbidden(User(name: "system:node:n1", role: .node("n1")), status).message
                == #"nodes "n2" is forbidden: User "system:node:n1" cannot patch resource "nodes/status" in API group "" at the cluster scope"#)
        let metrics = RequestAttributes(method: "GET", path: "/metrics", watch: false)
        #expect(
            APIError.forbidden(User(name: "system:node:n1", role: .node("n1")), metrics).message
                == #"forbidden: User "system:node:n1" cannot get path "/metrics""#)
        #expect(APIError.forbidden(viewer, delete).code == 403 && APIError.forbidden(viewer, delete).reason == "Forbidden")
    }
}
