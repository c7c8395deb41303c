import CapstanAPI
import CapstanCore
import CapstanStore
import CapstanTestSupport
import Foundation
import Hummingbird
import Logging
import OrderedCollections
import Testing

@testable import CapstanAPIServer

/// Access control over a real token file and a real SQLite store.
private struct Fixture {
    let access: AccessControl
    let registry: ResourceRegistry
    let tokens: TokenStore
    let admin: String
    let viewer: String
    let node1: String

    func request(_ method: HTTPRequest.Method, _ path: String, token: String?, body: JSONValue? = nil, authorization: String? = nil) -> Request {
        var head = HTTPRequest(method: method, scheme: "https", authority: "127.0.0.1", path: path)
        if let token { head.headerFields[.authorization] = "Bearer \(token)" }
        if let authorization { head.headerFields[.authorization] = authorization }
        let bytes = body.map { JSONSerializer.bytes($0) } ?? []
        return Request(head: head, body: RequestBody(buffer: ByteBuffer(bytes: bytes)))
    }

    /// The user admitted, or the error the request is refused with.
    func admit(_ method: HTTPRequest.Method, _ path: String, token: String?, body: JSONValue? = nil) async -> Result<User?, APIError> {
        var request = request(method, path, token: token, body: body)
        do {
            return .success(try await access.admit(&request))
        } catch {
            return .failure(error)
        }
    }
}

private func withFixture(_ body: (Fixture) async throws -> Void) async throws {
    try await TemporaryDirectory.with(prefix: "capstan-access") { directory in
        let store = try SQLiteStore(directory: directory.appending("store"), options: .init(durability: .normal), logger: Logger(label: "test"))
        defer { store.close() }
        let registry = ResourceRegistry(store: store)
        let tokens = try TokenStore(path: directory.appending("auth/tokens.json"))
        let fixture = Fixture(
            access: AccessControl(tokens: tokens, registry: registry), registry: registry, tokens: tokens,
            admin: try tokens.mint(for: User(name: "admin", role: .admin)),
            viewer: try tokens.mint(for: User(name: "viewer", role: .viewer)),
            node1: try tokens.mint(for: User(name: "system:node:n1", role: .node("n1"))))
        try await body(fixture)
    }
}

private func pod(_ name: String, node: String?) -> JSONValue {
    var spec: JSONObject = ["containers": [["name": "c", "image": "busybox"]]]
    if let node { spec["nodeName"] = .string(node) }
    return ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name)], "spec": .object(spec)]
}

@Suite struct AccessControlTests {
    @Test func noTokenIsUnauthorizedExceptOnOpenPaths() async throws {
        try await withFixture { f in
            let refused = await f.admit(.get, "/api/v1/namespaces/default/pods", token: nil)
            #expect(refused == .failure(.unauthorized))
            #expect(APIError.unauthorized.status[path: ["reason"]] == "Unauthorized")
            #expect(APIError.unauthorized.code == 401)
            #expect(await f.admit(.get, "/status", token: nil) == .failure(.unauthorized))
            #expect(await f.admit(.get, "/metrics", token: nil) == .failure(.unauthorized))
            #expect(await f.admit(.get, "/healthz", token: nil) == .success(nil))
            #expect(await f.admit(.get, "/version", token: nil) == .success(nil))
        }
    }

    @Test func unknownOrMalformedTokenIsUnauthorizedEverywhere() async throws {
        try await withFixture { f in
            #expect(await f.admit(.get, "/api/v1/pods", token: "not-a-token") == .failure(.unauthorized))
            #expect(await f.admit(.get, "/healthz", token: "not-a-token") == .failure(.unauthorized))
            for header in ["Basic YWRtaW46YWRtaW4=", "Bearer ", "Bearer", "\(f.admin)"] {
                var request = f.request(.get, "/api/v1/pods", token: nil, authorization: header)
                await #expect(throws: APIError.unauthorized) { try await f.access.admit(&request) }
            }
        }
    }

    @Test func adminMayDoAnything() async throws {
        try await withFixture { f in
            let admitted = await f.admit(.delete, "/api/v1/namespaces/default/secrets/s", token: f.admin)
            #expect(admitted.user?.role == .admin)
        }
    }

    @Test func viewerReadsButCannotWriteOrReadSecrets() async throws {
        try await withFixture { f in
            #expect(await f.admit(.get, "/api/v1/namespaces/default/pods", token: f.viewer).user?.name == "viewer")
            let delete = await f.admit(.delete, "/api/v1/namespaces/default/pods/x", token: f.viewer)
            #expect(delete.failure?.code == 403)
            #expect(
                delete.failure?.message
                    == #"pods "x" is forbidden: User "viewer" cannot delete resource "pods" in API group "" in the namespace "default""#)
            let secrets = await f.admit(.get, "/api/v1/namespaces/default/secrets", token: f.viewer)
            #expect(secrets.failure?.reason == "Forbidden")
        }
    }

    @Test func nodeWritesOnlyTheStatusOfItsOwnPods() async throws {
        try await withFixture { f in
            let writer = WriteOptions(fieldManager: "test")
            _ = try await f.registry.create(BuiltinKinds.pod, namespace: "default", object: pod("mine", node: "n1"), options: writer)
            _ = try await f.registry.create(BuiltinKinds.pod, namespace: "default", object: pod("theirs", node: "n2"), options: writer)
            _ = try await f.registry.create(BuiltinKinds.pod, namespace: "default", object: pod("pending", node: nil), options: writer)
            #expect(await f.admit(.patch, "/api/v1/namespaces/default/pods/mine/status", token: f.node1).user?.name == "system:node:n1")
            #expect(await f.admit(.delete, "/api/v1/namespaces/default/pods/mine", token: f.node1).user != nil)
            let other = await f.admit(.patch, "/api/v1/namespaces/default/pods/theirs/status", token: f.node1)
            #expect(other.failure?.code == 403)
            #expect(other.failure?.message.hasSuffix(#"the pod is bound to node "n2", not "n1""#) == true, "\(other)")
            let unbound = await f.admit(.put, "/api/v1/namespaces/default/pods/pending/status", token: f.node1)
            #expect(unbound.failure?.message.hasSuffix("the pod is not bound to any node") == true)
            // A write to a pod that does not exist is refused: no node credential may bring one into being.
            let missing = await f.admit(.patch, "/api/v1/namespaces/default/pods/nope/status", token: f.node1)
            #expect(missing.failure?.code == 403 && missing.failure?.message.hasSuffix("the pod does not exist") == true, "\(missing)")
            // Deleting one that is already gone is left for the request to answer 404, which the agent takes as done.
            #expect(await f.admit(.delete, "/api/v1/namespaces/default/pods/nope", token: f.node1).user != nil)
        }
    }

    /// NodeRestriction for tokens: bound to a pod of this node, by uid, for the account it runs as.
    @Test func nodeRequestsOnlyTokensBoundToItsOwnPods() async throws {
        try await withFixture { f in
            let writer = WriteOptions(fieldManager: "test")
            func create(_ name: String, node: String, account: String) async throws -> String {
                let object: JSONValue = [
                    "apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name)],
                    "spec": ["serviceAccountName": .string(account), "nodeName": .string(node), "containers": [["name": "c", "image": "busybox"]]],
                ]
                let created = try await f.registry.create(BuiltinKinds.pod, namespace: "default", object: object, options: writer)
                return created[path: ["metadata", "uid"]]?.stringValue ?? ""
            }
            let mine = try await create("builder", node: "n1", account: "builder")
            let theirs = try await create("other", node: "n2", account: "builder")
            func request(_ reference: JSONValue?) -> JSONValue {
                var spec: JSONObject = [:]
                if let reference { spec["boundObjectRef"] = reference }
                return ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": .object(spec)]
            }
            func admit(_ account: String, _ reference: JSONValue?, token: String?) async -> Result<User?, APIError> {
                await f.admit(.post, "/api/v1/namespaces/default/serviceaccounts/\(account)/token", token: token, body: request(reference))
            }
            let bound: JSONValue = ["kind": "Pod", "apiVersion": "v1", "name": "builder", "uid": .string(mine)]
            #expect(await admit("builder", bound, token: f.node1).user?.name == "system:node:n1")
            func refusal(_ account: String, _ reference: JSONValue?) async -> String {
                let result = await admit(account, reference, token: f.node1)
                #expect(result.failure?.code == 403, "\(result)")
                return result.failure?.message ?? ""
            }
            #expect(await refusal("builder", nil).hasSuffix("node requested token not bound to a pod"))
            #expect(
                await refusal("builder", ["kind": "Pod", "name": "builder"]).hasSuffix("node requested token with a pod binding without a uid"))
            #expect(
                await refusal("builder", ["kind": "Pod", "name": "builder", "uid": "not-the-uid"]).hasSuffix(
                    "node requested token bound to a pod that does not exist"))
            #expect(
                await refusal("builder", ["kind": "Pod", "name": "other", "uid": .string(theirs)]).hasSuffix(
                    "node requested token bound to a pod scheduled on a different node"))
            #expect(
                await refusal("default", bound).hasSuffix(#"node requested token for service account "default", but the pod runs as "builder""#))
            // Every other role, and none.
            #expect(await admit("builder", bound, token: f.viewer).failure?.code == 403)
            #expect(await admit("builder", bound, token: nil).failure?.code == 401)
            #expect(await admit("builder", nil, token: f.admin).user?.name == "admin")
        }
    }

    @Test func nodeCreatesOnlyItsOwnNodeAndLease() async throws {
        try await withFixture { f in
            let own: JSONValue = ["apiVersion": "v1", "kind": "Node", "metadata": ["name": "n1"]]
            let other: JSONValue = ["apiVersion": "v1", "kind": "Node", "metadata": ["name": "n2"]]
            var request = f.request(.post, "/api/v1/nodes", token: f.node1, body: own)
            let admitted = try await f.access.admit(&request)
            #expect(admitted?.name == "system:node:n1")
            // The body read for the check is still there for the handler.
            let body = try await request.collectBody(upTo: 1 << 20)
            let parsed = try JSONParser().parse(Array(body.readableBytesView))
            #expect(parsed == own)
            let refused = await f.admit(.post, "/api/v1/nodes", token: f.node1, body: other)
            #expect(refused.failure?.message.hasSuffix(#"a node may only create the object named "n1", not "n2""#) == true, "\(refused)")
            let lease: JSONValue = [
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": ["name": "n1", "namespace": "kube-node-lease"],
            ]
            #expect(await f.admit(.post, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", token: f.node1, body: lease).user != nil)
            #expect(await f.admit(.patch, "/api/v1/nodes/n2/status", token: f.node1).failure?.code == 403)
            #expect(await f.admit(.patch, "/api/v1/nodes/n1/status", token: f.node1).user != nil)
        }
    }

    @Test func plainHTTPPortAdmitsEveryoneAsAdmin() async throws {
        try await withFixture { f in
            // kubectl sends no credentials over plain HTTP; the loopback-only port authenticates nobody.
            let open = AccessControl(tokens: nil, registry: f.registry)
            var request = f.request(.delete, "/api/v1/namespaces/default/secrets/s", token: nil)
            let admitted = try await open.admit(&request)
            #expect(admitted == AccessControl.insecureUser && admitted?.role == .admin)
        }
    }

    /// The plain-HTTP port admits every caller as admin, so a web page on the
    /// machine must not reach it: no `Origin`, only loopback `Host`s, and
    /// writes only with an API media type (a form post carries none).
    @Test(
        arguments: [
            (HTTPRequest.Method.get, "127.0.0.1:8080", "https://evil.example", nil, 403),
            (.get, "evil.example:8080", nil, nil, 403),
            (.get, "localhost.evil.example", nil, nil, 403),
            (.get, "127.evil.example:8080", nil, nil, 403),
            (.get, "127.0.0.1:8080", nil, nil, 0),
            (.get, "localhost:8080", nil, nil, 0),
            (.get, "[::1]:8080", nil, nil, 0),
            (.post, "127.0.0.1:8080", nil, "text/plain", 415),
            (.post, "127.0.0.1:8080", nil, "application/x-www-form-urlencoded", 415),
            (.post, "127.0.0.1:8080", nil, "multipart/form-data; boundary=x", 415),
            (.post, "127.0.0.1:8080", nil, nil, 0),
            (.post, "127.0.0.1:8080", nil, "application/json; charset=utf-8", 0),
            (.patch, "127.0.0.1:8080", nil, "application/merge-patch+json", 0),
        ] as [(HTTPRequest.Method, String, String?, String?, Int)])
    func plainHTTPPortRefusesWhatABrowserWouldSend(method: HTTPRequest.Method, host: String, origin: String?, contentType: String?, code: Int)
        async throws
    {
        try await withFixture { f in
            let open = AccessControl(tokens: nil, registry: f.registry)
            var head = HTTPRequest(method: method, scheme: "http", authority: host, path: "/api/v1/namespaces/default/configmaps")
            if let origin { head.headerFields[.origin] = origin }
            if let contentType { head.headerFields[.contentType] = contentType }
            var request = Request(head: head, body: RequestBody(buffer: ByteBuffer()))
            do {
                _ = try await open.admit(&request)
                #expect(code == 0, "admitted, expected \(code)")
            } catch let error as APIError {
                #expect(error.code == code, "\(error.message)")
            }
        }
    }

    @Test func addedRoutesAreCheckedByTheirAccessLevel() async throws {
        try await withFixture { f in
            var access = f.access
            access.routes = ["POST /hooks/git": .anyone, "GET /history": .reader, "POST /sync": .writer]
            var hook = f.request(.post, "/hooks/git", token: nil)
            let hookUser = try await access.admit(&hook)
            #expect(hookUser == nil)
            var history = f.request(.get, "/history", token: f.viewer)
            let historyUser = try await access.admit(&history)
            #expect(historyUser?.name == "viewer")
            var anonymous = f.request(.get, "/history", token: nil)
            await #expect(throws: APIError.unauthorized) { try await access.admit(&anonymous) }
            var sync = f.request(.post, "/sync", token: f.viewer)
            await #expect(throws: APIError.self) { try await access.admit(&sync) }
            var adminSync = f.request(.post, "/sync", token: f.admin)
            let syncUser = try await access.admit(&adminSync)
            #expect(syncUser?.role == .admin)
        }
    }

    @Test func tokensMintedElsewhereWorkWithoutRestart() async throws {
        try await withFixture { f in
            // `capstan token create` is another process with its own TokenStore over the same file.
            let other = try TokenStore(path: f.tokens.path)
            let fresh = try other.mint(for: User(name: "late-viewer", role: .viewer))
            #expect(await f.admit(.get, "/api/v1/pods", token: fresh).user?.name == "late-viewer")
            // Revoked elsewhere (`capstan token revoke`), refused at the next request.
            let id = try #require(other.entries.first { $0.user.name == "late-viewer" }?.id)
            #expect(try other.revoke(id: id) == 1)
            #expect(await f.admit(.get, "/api/v1/pods", token: fresh) == .failure(.unauthorized))
            #expect(await f.admit(.get, "/api/v1/pods", token: f.viewer).user?.name == "viewer")
        }
    }
}

extension Result where Success == User? {
    /// The admitted user; nil when refused (or admitted anonymously).
    var user: User? {
        if case .success(let value) = self { return value }
        return nil
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
