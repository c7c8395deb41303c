import CapstanAPI
import CapstanCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OrderedCollections

/// Authentication and authorization of every API request, called from one
/// place in ``APIResponder``: the bearer token names a user (``TokenStore``),
/// the ``Authorizer`` rules on the request, and the conditions it returns for
/// nodes are checked here against the request body or the stored pod.
///
/// Without a token store (plain HTTP, `--insecure-http`) every request is
/// admitted as ``insecureUser``, an admin — Kubernetes' old `--insecure-port`
/// did the same — because kubectl sends no credentials over plain HTTP.
/// The server allows that mode on loopback addresses only.
struct AccessControl: Sendable {
    /// nil: plain HTTP on loopback, no authentication.
    let tokens: TokenStore?
    let registry: ResourceRegistry
    /// Roles and bindings, consulted when the built-in roles refuse (nil: none, as in unit tests).
    var rbac: RBACCache?
    /// Verifies service-account tokens (JWTs); nil: only the token store's tokens are known.
    var serviceAccountTokens: ServiceAccountTokens?
    /// Who may call the endpoints other modules add (``APIRoute``), by `"METHOD /path"`.
    var routes: [String: APIRoute.Access] = [:]
    /// A node's create request is read up to Kubernetes' 3 MiB body limit here;
    /// the responder applies its own limit when it reads the body again.
    var maxBodyBytes = 3 * 1024 * 1024

    /// The caller (nil for a request without a token to an open path such as
    /// `/healthz`), or a 401 / 403 `APIError` to answer with. May buffer the
    /// request body, to read the name of the object a node creates.
    func admit(_ request: inout Request) async throws(APIError) -> User? {
        let route = routes["\(request.method.rawValue) \(request.uri.path)"]
        guard let tokens else {
            // A webhook proves itself by its signature, whatever its body's type.
            try Self.checkInsecureRequest(request, checkContentType: route != .anyone)
            return Self.insecureUser
        }
        // A webhook checks its own signature; the git host sends no token.
        if route == .anyone { return nil }
        let watch = Query(request).isWatch
        let attributes = RequestAttributes(method: request.method.rawValue, path: request.uri.path, watch: watch)
        guard let header = request.headers[.authorization] else {
            if Authorizer.isPublic(attributes) { return nil }
            throw .unauthorized
        }
        // A wrong token is refused even on open paths, as Kubernetes does.
        guard let token = Self.bearerToken(header), let authenticated = await authenticate(token, tokens) else { throw .unauthorized }
        let user = try impersonation(by: authenticated, request.headers)
        switch route.map({ Authorizer.decide(user, route: $0) }) ?? Authorizer.decide(user, attributes) {
        case .allow:
            return user
        case .deny:
            // The authorizer chain of `--authorization-mode=Node,RBAC`: what the
            // built-in roles refuse, a RoleBinding may still allow. A node's
            // requests stay the node authorizer's alone.
            if route == nil, allowedByRBAC(user, attributes) { return user }
            throw .forbidden(user, attributes)
        case .allowIf(let condition):
            if let reason = try await violation(of: condition, attributes, &request) {
                throw .forbidden(user, attributes, reason: reason)
            }
            return user
        }
    }

    /// The user of a bearer token: a service-account JWT (it has dots) is
    /// verified by its signature and what it is bound to, any other token is
    /// looked up in the token store.
    private func authenticate(_ token: String, _ tokens: TokenStore) async -> User? {
        guard ServiceAccountJWT.looksLikeJWT(token) else { return tokens.authenticate(token) }
        return await serviceAccountTokens?.user(for: token)
    }

    /// Whether `user` may do what `attributes` ask, where no request body or
    /// stored object is at hand (an access review): a conditional allowance
    /// of the node authorizer counts as no.
    func allows(_ user: User, _ attributes: RequestAttributes) -> Bool {
        switch Authorizer.decide(user, attributes) {
        case .allow: true
        case .deny: allowedByRBAC(user, attributes)
        case .allowIf: false
        }
    }

    /// The user a request acts as: the authenticated one, or the one its
    /// `Impersonate-User` and `Impersonate-Group` headers name, if the
    /// authenticated user may `impersonate` each of them (Kubernetes'
    /// impersonation filter). Impersonating a service account's user name
    /// checks `impersonate` on that ServiceAccount and, without groups
    /// asked for, gives its groups; every impersonated user is in
    /// `system:authenticated` and has no built-in role.
    func impersonation(by user: User, _ headers: HTTPFields) throws(APIError) -> User {
        let groups = headers[values: Self.impersonateGroup]
        guard let name = headers[Self.impersonateUser] else {
            if groups.isEmpty { return user }
            throw .badRequest("requested to impersonate groups \(groups) without impersonating a user")
        }
        var checks: [RequestAttributes.Resource] = []
        let serviceAccount = ServiceAccountIdentity.split(name)
        if let serviceAccount {
            checks.append(.init(group: "", resource: "serviceaccounts", namespace: serviceAccount.namespace, name: serviceAccount.name))
        } else {
            checks.append(.init(group: "", resource: "users", name: name))
        }
        checks += groups.map { .init(group: "", resource: "groups", name: $0) }
        for resource in checks {
            let attributes = RequestAttributes(verb: "impersonate", path: "", resource: resource)
            guard allows(user, attributes) else { throw .forbidden(user, attributes) }
        }
        let impersonatedGroups = groups.isEmpty ? (serviceAccount.map { ServiceAccountIdentity.groups(namespace: $0.namespace) } ?? []) : groups
        return User(name: name, role: .rbacOnly, groups: impersonatedGroups)
    }

    static let impersonateUser = HTTPField.Name("Impersonate-User")!
    static let impersonateGroup = HTTPField.Name("Impersonate-Group")!

    /// Whether a RoleBinding or ClusterRoleBinding allows the request; never for a node's credentials.
    func allowedByRBAC(_ user: User, _ attributes: RequestAttributes) -> Bool {
        if case .node = user.role { return false }
        if user.groups.contains(User.mastersGroup) { return true }
        return rbac?.policy.allows(user, attributes) ?? false
    }

    /// Who every request is on the unauthenticated plain-HTTP port.
    static let insecureUser = User(name: "system:insecure-http", role: .admin)

    /// Media types a write on the plain-HTTP port may declare: those of the API.
    /// A web page can send a cross-site POST without a preflight only as
    /// `text/plain`, a form or multipart, so none of those is accepted.
    static let apiMediaTypes: Set<String> = [
        "application/json", "application/yaml", "application/vnd.kubernetes.protobuf",
        "application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json",
        "application/apply-patch+yaml", "application/apply-patch+cbor",
    ]

    /// The plain-HTTP port admits every caller as admin, so it must not be
    /// reachable from a web page on this machine: a browser sends `Origin` on
    /// cross-site and scripted requests, and a DNS-rebinding page reaches
    /// 127.0.0.1 under its own host name, which the `Host` header shows. kubectl
    /// and API clients send neither. Writes must say they carry API content.
    static func checkInsecureRequest(_ request: Request, checkContentType: Bool = true) throws(APIError) {
        if let origin = request.headers[.origin] {
            throw .forbiddenRequest("requests with an Origin header (\(origin)) are refused on the unauthenticated plain-HTTP port")
        }
        let host = IPLiteral.hostOfAuthority(request.head.authority ?? "")
        guard IPLiteral.isLoopbackHost(host) else {
            throw .forbiddenRequest("the unauthenticated plain-HTTP port answers only requests addressed to a loopback host, not \"\(host)\"")
        }
        // A body a page sends cross-site always says what it is (a form, multipart,
        // text/plain); a request with no Content-Type at all — kubectl's bodyless
        // exec upgrade, say — cannot come from a page without an Origin.
        guard checkContentType, [.post, .put, .patch].contains(request.method), let header = request.headers[.contentType] else { return }
        let contentType = header.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        guard apiMediaTypes.contains(contentType) else {
            throw APIError(
                code: 415, reason: "UnsupportedMediaType",
                message:
                    "a write on the unauthenticated plain-HTTP port must have an API Content-Type (application/json, application/yaml or a patch type), not \"\(contentType)\""
            )
        }
    }

    /// The request's JSON body, collected (and kept for the handler) up to the body limit; nil when it is not JSON.
    private func bodyJSON(_ request: inout Request) async throws(APIError) -> JSONValue? {
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: maxBodyBytes)
        } catch {
            throw .tooLarge("the request body is larger than the \(maxBodyBytes)-byte limit")
        }
        return try? JSONParser().parse(Array(body.readableBytesView))
    }

    /// Why the condition does not hold, or nil when it does.
    private func violation(of condition: Authorizer.Condition, _ attributes: RequestAttributes, _ request: inout Request) async throws(APIError)
        -> String?
    {
        switch condition {
        case .createsObjectNamed(let name):
            let created = try await bodyJSON(&request)?[path: ["metadata", "name"]]?.stringValue ?? ""
            return created == name ? nil : "a node may only create the object named \"\(name)\", not \"\(created)\""
        case .tokenForPodOnNode(let node):
            // NodeRestriction's checks, in its words.
            guard let resource = attributes.resource, let account = resource.name else { return "the request names no service account" }
            let reference = try await bodyJSON(&request)?[path: ["spec", "boundObjectRef"]]
            guard let reference, reference["kind"]?.stringValue == "Pod", let podName = reference["name"]?.stringValue, !podName.isEmpty else {
                return "node requested token not bound to a pod"
            }
            guard let uid = reference["uid"]?.stringValue, !uid.isEmpty else { return "node requested token with a pod binding without a uid" }
            guard let pod = try? await registry.get(BuiltinKinds.pod, namespace: resource.namespace, name: podName),
                pod[path: ["metadata", "uid"]]?.stringValue == uid
            else { return "node requested token bound to a pod that does not exist" }
            guard pod[path: ["spec", "nodeName"]]?.stringValue == node else {
                return "node requested token bound to a pod scheduled on a different node"
            }
            let runsAs = PodSpec(json: pod["spec"]?.objectValue ?? [:]).runsAs
            return runsAs == account ? nil : "node requested token for service account \"\(account)\", but the pod runs as \"\(runsAs)\""
        case .podBoundToNode(let node):
            guard let resource = attributes.resource, let name = resource.name else { return "the request names no pod" }
            let pod: JSONValue
            do {
                pod = try await registry.get(BuiltinKinds.pod, namespace: resource.namespace, name: name)
            } catch let error where error.code == 404 {
                // Deleting what is already gone answers NotFound, as Kubernetes'
                // NodeRestriction does (the agent takes that as done); any other
                // write to a pod that does not exist is refused outright, so no
                // path through a node's credentials can bring a pod into being.
                return attributes.verb == "delete" ? nil : "the pod does not exist"
            }
            let bound = pod[path: ["spec", "nodeName"]]?.stringValue ?? ""
            if bound == node { return nil }
            return bound.isEmpty ? "the pod is not bound to any node" : "the pod is bound to node \"\(bound)\", not \"\(node)\""
        case .usedByPodOnNode(let node):
            guard let resource = attributes.resource, let name = resource.name else { return "the request names no object" }
            var options = ListOptions()
            options.fieldSelector = try FieldSelector(parsing: "spec.nodeName=\(node)")
            let pods = try await registry.list(BuiltinKinds.pod, namespace: resource.namespace, options: options).items
            let used = pods.contains { value in
                guard let pod = Pod(jsonValue: value) else { return false }
                return resource.resource == "secrets" ? pod.referencedSecrets.contains(name) : pod.referencedConfigMaps.contains(name)
            }
            return used ? nil : "no pod bound to node \"\(node)\" uses \(resource.resource) \"\(name)\""
        }
    }

    /// The token of an `Authorization: Bearer <token>` header.
    static func bearerToken(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }
}

extension APIError {
    /// 403 for a request refused for what it is, not for who sent it.
    static func forbiddenRequest(_ message: String) -> APIError {
        APIError(code: 403, reason: "Forbidden", message: "forbidden: \(message)")
    }

    /// 401: no token, or one that is not known. kubectl prints
    /// `error: You must be logged in to the server (Unauthorized)`.
    static let unauthorized = APIError(code: 401, reason: "Unauthorized", message: "Unauthorized")

    /// 403 worded as Kubernetes words it, e.g. `pods "x" is forbidden: User
    /// "viewer" cannot delete resource "pods" in API group "" in the namespace "default"`.
    static func forbidden(_ user: User, _ request: RequestAttributes, reason: String? = nil) -> APIError {
        let suffix = reason.map { ": \($0)" } ?? ""
        guard let resource = request.resource else {
            return APIError(
                code: 403, reason: "Forbidden", message: "forbidden: User \"\(user.name)\" cannot \(request.verb) path \"\(request.path)\"\(suffix)")
        }
        let qualified = APIError.qualified(resource.resource, resource.group)
        let subject = resource.name.map { "\(qualified) \"\($0)\" is forbidden" } ?? "\(qualified) is forbidden"
        let scope = resource.namespace.map { "in the namespace \"\($0)\"" } ?? "at the cluster scope"
        var details: JSONObject = ["kind": .string(resource.resource)]
        if let name = resource.name { details["name"] = .string(name) }
        if !resource.group.isEmpty { details["group"] = .string(resource.group) }
        return APIError(
            code: 403, reason: "Forbidden",
            message:
                "\(subject): User \"\(user.name)\" cannot \(request.verb) resource \"\(resource.resourceWithSubresource)\" in API group \"\(resource.group)\" \(scope)\(suffix)",
            details: details)
    }
}
