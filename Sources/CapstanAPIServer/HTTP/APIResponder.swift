import CapstanAPI
import CapstanClient
import CapstanCore
import CapstanStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import OrderedCollections
import ServiceLifecycle

/// Answers every HTTP request of the Kubernetes-shaped API: discovery,
/// health, and the resources, dispatched on the parsed path rather than a
/// route table (Kubernetes paths are regular, and one parser keeps them so).
struct APIResponder: HTTPResponder {
    typealias Context = APIRequestContext

    let registry: ResourceRegistry
    let status: StatusReporter
    let capstanVersion: String
    let logger: Logger
    /// Who may do what: checked before anything else (Auth/AccessControl.swift).
    let access: AccessControl
    // Operations: metrics, limits, events (see Metrics/, RequestLimits.swift, CapstanClient's EventRecorder).
    let metrics: APIMetrics
    let limits: RequestLimits
    let events: EventRecorder
    /// Endpoints other modules add (GitOps history, drift, webhook).
    var routes: [APIRoute] = []
    var gitOpsStatus: (@Sendable () async -> JSONValue)?
    /// Logs and exec of pods' containers (Streaming/); nil: no node agent is wired in.
    var podStreaming: (any PodStreaming)?
    /// Issues service-account tokens and serves their issuer's keys; nil: neither is served.
    var serviceAccountTokens: ServiceAccountTokens?

    func respond(to request: Request, context: Context) async throws -> Response {
        let warnings = RequestWarnings()
        // Every answer below, errors included, is written in the format the client's Accept prefers.
        let format = ContentNegotiation.responseFormat(accept: request.headers[.accept] ?? "")
        var response = try await RequestWarnings.$current.withValue(warnings) {
            try await ContentNegotiation.$responseFormat.withValue(format) { try await respondInNegotiatedFormat(to: request, context: context) }
        }
        for message in warnings.all { response.headers.append(HTTPField(name: Self.warningHeader, value: RequestWarnings.headerValue(message))) }
        return response
    }

    private static let warningHeader = HTTPField.Name("Warning")!

    private func respondInNegotiatedFormat(to request: Request, context: Context) async throws -> Response {
        var request = request
        let path = request.uri.path
        do {
            let user = try await access.admit(&request)
            if let response = try await fixedEndpoint(path, request) { return response }
            if let response = try await podStreamingEndpoint(request, context: context) { return response }
            if let route = routes.first(where: { $0.path == path && $0.method == request.method.rawValue }) {
                return try await serve(route, request)
            }
            guard let resourcePath = ResourcePath(path) else {
                throw APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource")
            }
            if AccessReviews.isReview(resourcePath), let user {
                guard request.method == .post else {
                    throw APIError.methodNotAllowed("\(resourcePath.resource) are created, never stored: only POST is allowed")
                }
                let review = try await readJSON(request)
                return Self.json(try AccessReviews(access: access).answer(resourcePath.resource, review, caller: user), status: .created)
            }
            if TokenRequests.isTokenRequest(resourcePath), let serviceAccountTokens {
                guard request.method == .post else {
                    throw APIError.methodNotAllowed("serviceaccounts/token requests are created, never stored: only POST is allowed")
                }
                let body = try await readJSON(request)
                let answer = try await TokenRequests(tokens: serviceAccountTokens).answer(
                    namespace: resourcePath.namespace ?? "", name: resourcePath.name ?? "", body)
                return Self.json(answer, status: .created)
            }
            guard let info = resourcePath.kind(in: registry.catalog) else {
                throw APIError(
                    code: 404, reason: "NotFound",
                    message:
                        "the server could not find the requested resource (\(resourcePath.resource) in \(resourcePath.group.isEmpty ? resourcePath.version : resourcePath.group + "/" + resourcePath.version))"
                )
            }
            if info == BuiltinKinds.apiService { return try await apiServices(resourcePath, request, user: user) }
            return try await resource(info, resourcePath, request, user: user)
        } catch let error as APIError {
            return Self.json(error.status, status: .init(code: error.code))
        } catch {
            logger.error("request failed", metadata: ["path": "\(path)", "error": "\(error)"])
            return Self.json(APIError.internalError("\(error)").status, status: .internalServerError)
        }
    }

    // MARK: APIServices

    /// APIServices (``LocalAPIServices``): a GET lists or reads the local ones
    /// and the stored ones together; anything else is an ordinary request on
    /// the stored ones (the strategy keeps the local names the server's).
    private func apiServices(_ path: ResourcePath, _ request: Request, user: User?) async throws -> Response {
        let info = BuiltinKinds.apiService
        guard request.method == .get, path.subresource == nil, !Query(request).isWatch else {
            // A local one is not stored: say why it cannot be changed, not that it is missing.
            if let name = path.name, LocalAPIServices.isLocal(name, registry.catalog) {
                throw APIError.methodNotAllowed("apiservices.apiregistration.k8s.io \"\(name)\" \(LocalAPIServices.localMessage)")
            }
            return try await resource(info, path, request, user: user)
        }
        // The local ones exist since the cluster does: the default namespace's creation time.
        let createdAt = try? await registry.get(BuiltinKinds.namespace, namespace: nil, name: "default")[path: ["metadata", "creationTimestamp"]]
        let local = LocalAPIServices.all(registry.catalog, createdAt: createdAt ?? nil)
        var items: [JSONValue]
        var resourceVersion: String?
        var continueToken: String?
        if let name = path.name {
            if let item = local.first(where: { $0[path: ["metadata", "name"]]?.stringValue == name }) {
                items = [item]
            } else {
                items = [try await registry.get(info, namespace: nil, name: name)]
            }
        } else {
            let options = try Query(request).listOptions()
            let stored = try await registry.list(info, namespace: nil, options: options)
            // The local ones come with the first page only, and only where the selectors match them.
            let selected = options.continueToken == nil ? local.filter { registry.matches($0, options) } : []
            items = (selected + stored.items).sorted {
                ($0[path: ["metadata", "name"]]?.stringValue ?? "") < ($1[path: ["metadata", "name"]]?.stringValue ?? "")
            }
            resourceVersion = stored.resourceVersion
            continueToken = stored.continueToken
        }
        if (request.headers[.accept] ?? "").contains("as=Table") {
            return Self.json(Tables.table(for: info, registry.catalog, objects: items, resourceVersion: resourceVersion, now: Date()))
        }
        if path.name != nil { return Self.json(items[0]) }
        var metadata: JSONObject = [:]
        if let resourceVersion { metadata["resourceVersion"] = .string(resourceVersion) }
        if let continueToken { metadata["continue"] = .string(continueToken) }
        return Self.json([
            "kind": "APIServiceList", "apiVersion": .string(info.apiVersion), "metadata": .object(metadata), "items": .array(items),
        ])
    }

    // MARK: Discovery, health, status

    private func fixedEndpoint(_ path: String, _ request: Request) async throws -> Response? {
        let accept = request.headers[.accept] ?? ""
        let aggregated = accept.contains("as=APIGroupDiscoveryList")
        switch path {
        case "/version", "/version/":
            return Self.json(Discovery.version(capstanVersion: capstanVersion))
        case "/healthz", "/livez", "/readyz":
            return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "ok")))
        case "/api", "/api/":
            return aggregated
                ? Self.json(Discovery.aggregated(core: true, registry.catalog), contentType: Discovery.aggregatedContentType)
                : Self.json(Discovery.legacyVersions())
        case "/apis", "/apis/":
            return aggregated
                ? Self.json(Discovery.aggregated(core: false, registry.catalog), contentType: Discovery.aggregatedContentType)
                : Self.json(Discovery.legacyGroups(registry.catalog))
        case "/openapi/v3", "/openapi/v3/":
            return Self.bytes(OpenAPIDocuments.v3Index(registry.catalog), contentType: "application/json")
        case "/openapi/v2":
            return try openAPIV2(accepting: request.headers[.accept] ?? "")
        case "/.well-known/openid-configuration" where serviceAccountTokens != nil:
            return Self.json(ServiceAccountTokens.openIDConfiguration)
        case "/openid/v1/jwks" where serviceAccountTokens != nil:
            return Self.json(serviceAccountTokens?.key.jwks ?? .null, contentType: "application/jwk-set+json")
        case "/status":
            return Self.json(await status.report(gitOps: await gitOpsStatus?()))
        case "/metrics":
            if let store = try? await registry.store.status() { metrics.refreshStore(store, backend: status.backend) }
            return Response(
                status: .ok, headers: [.contentType: APIMetrics.contentType], body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        default:
            break
        }
        let segments = path.split(separator: "/").map(String.init)
        if segments.first == "openapi", segments.count >= 3, segments[1] == "v3" {
            if let document = OpenAPIDocuments.v3Document(at: segments.dropFirst(2).joined(separator: "/"), registry.catalog) {
                return Self.bytes(document.bytes, contentType: "application/json")
            }
            throw APIError(code: 404, reason: "NotFound", message: "no OpenAPI document for \(path)")
        }
        if segments.count == 2, segments[0] == "api", let list = Discovery.resourceList(group: "", version: segments[1], registry.catalog) {
            return Self.json(list)
        }
        if segments.count == 3, segments[0] == "apis", let list = Discovery.resourceList(group: segments[1], version: segments[2], registry.catalog) {
            return Self.json(list)
        }
        if segments.count == 2, segments[0] == "apis" {
            return Discovery.group(named: segments[1], registry.catalog).map { Self.json($0) }
        }
        return nil
    }

    // MARK: Resources

    private func resource(_ info: KindInfo, _ path: ResourcePath, _ request: Request, user: User?) async throws -> Response {
        let query = Query(request)
        let table = (request.headers[.accept] ?? "").contains("as=Table")
        if !info.namespaced, path.namespace != nil {
            throw APIError(code: 404, reason: "NotFound", message: "\(info.resource) is not namespaced")
        }
        let manager = query["fieldManager"] ?? defaultManager(request)
        var options = WriteOptions(fieldManager: manager, dryRun: query["dryRun"] == "All", fieldValidation: try query.fieldValidation())
        if case .node(let node)? = user?.role {
            options.requestingNode = node
            // A node agent writes its Node and its pods' status; NodeRestriction bounds those writes, no policy is about them.
            options.policyAdmissionExempt = true
        }
        switch (request.method, path.name, path.subresource) {
        case (.get, nil, nil):
            var listOptions = try query.listOptions()
            // A larger page is served as several; clients follow the continue token.
            listOptions.limit = min(listOptions.limit, limits.maxListLimit)
            if query.isWatch {
                guard ContentNegotiation.responseFormat != .protobufOnly else {
                    throw APIError(
                        code: 406, reason: "NotAcceptable",
                        message: "Capstan writes watch streams as application/json only; accept application/json to watch \(info.resource)")
                }
                return watch(info, path.namespace, listOptions, table: table)
            }
            let list = try await registry.list(info, namespace: path.namespace, options: listOptions)
            if table {
                return Self.json(
                    Tables.table(
                        for: info, registry.catalog, objects: list.items, resourceVersion: list.resourceVersion, continueToken: list.continueToken,
                        now: Date()))
            }
            var metadata: JSONObject = ["resourceVersion": .string(list.resourceVersion)]
            if let token = list.continueToken { metadata["continue"] = .string(token) }
            return Self.json([
                "kind": .string(info.kind + "List"), "apiVersion": .string(info.apiVersion), "metadata": .object(metadata),
                "items": .array(list.items),
            ])
        case (.get, let name?, let subresource) where subresource == nil || subresource == "status":
            let object = try await registry.get(info, namespace: path.namespace, name: name)
            return table
                ? Self.json(Tables.table(for: info, registry.catalog, objects: [object], resourceVersion: nil, now: Date())) : Self.json(object)
        case (.get, let name?, "scale"):
            let paths = try Scale.paths(info, registry.catalog)
            return Self.json(Scale.view(of: try await registry.get(info, namespace: path.namespace, name: name), paths))
        case (.post, nil, nil):
            let body = try await readJSON(request)
            let created = try await registry.create(info, namespace: path.namespace, object: body, options: options)
            return Self.json(created, status: .created)
        case (.post, let name?, "binding") where info.kind == "Pod":
            let binding = try await readJSON(request)
            guard let node = binding[path: ["target", "name"]]?.stringValue, !node.isEmpty else {
                throw APIError.badRequest("a binding needs target.name")
            }
            let (bound, _) = try await registry.patch(info, namespace: path.namespace, name: name, options: options) {
                (current: JSONValue?) throws -> JSONValue in
                var pod = current ?? .object([:])
                if let assigned = pod[path: ["spec", "nodeName"]]?.stringValue, !assigned.isEmpty {
                    throw APIError(code: 409, reason: "Conflict", message: "pod \(name) is already assigned to node \"\(assigned)\"")
                }
                pod[path: ["spec", "nodeName"]] = .string(node)
                return pod
            }
            if !options.dryRun {
                await events.record(
                    bound, reason: "Scheduled", message: "Successfully assigned \(path.namespace ?? "default")/\(name) to \(node)",
                    component: options.fieldManager)
            }
            return Self.json(["kind": "Status", "apiVersion": "v1", "metadata": .object([:]), "status": "Success", "code": 201], status: .created)
        case (.put, let name?, let subresource) where registry.acceptsWrite(info, subresource: subresource):
            let body = try await readJSON(request)
            return Self.json(
                try await registry.update(info, namespace: path.namespace, name: name, object: body, options: options, subresource: subresource))
        case (let method, let name?, "scale") where method == .put || method == .patch:
            return try await scale(info, path, name, request, options)
        case (.patch, let name?, let subresource) where subresource == nil || subresource == "status":
            return try await patch(info, path, name, subresource, request, query, options)
        case (.delete, let name?, nil):
            let body = try await readOptionalJSON(request)
            let grace = query["gracePeriodSeconds"].flatMap { Int64($0) } ?? body?["gracePeriodSeconds"]?.intValue
            let uid = body?[path: ["preconditions", "uid"]]?.stringValue
            var propagation: ResourceRegistry.PropagationPolicy?
            if let policy = query["propagationPolicy"] ?? body?["propagationPolicy"]?.stringValue {
                guard let parsed = ResourceRegistry.PropagationPolicy(rawValue: policy) else {
                    throw APIError.badRequest("propagationPolicy must be Orphan, Foreground or Background, not \"\(policy)\"")
                }
                propagation = parsed
            } else if body?["orphanDependents"]?.boolValue == true || query["orphanDependents"] == "true" {
                propagation = .orphan
            }
            switch try await registry.delete(
                info, namespace: path.namespace, name: name, dryRun: options.dryRun, gracePeriodSeconds: grace, preconditionUID: uid,
                propagationPolicy: propagation, requestingNode: options.requestingNode)
            {
            // As kube-apiserver answers: the object itself for kinds that return it, a
            // Success Status otherwise; an object only marked for deletion comes back as it is now.
            case .deleted(let object):
                if registry.strategy(info).returnsDeletedObject { return Self.json(object) }
                var details: JSONObject = ["name": .string(name), "group": .string(info.group), "kind": .string(info.resource)]
                if let uid = object[path: ["metadata", "uid"]] { details["uid"] = uid }
                return Self.json(["kind": "Status", "apiVersion": "v1", "metadata": .object([:]), "status": "Success", "details": .object(details)])
            case .pending(let object):
                return Self.json(object)
            }
        case (.delete, nil, nil):
            let list = try await registry.list(info, namespace: path.namespace, options: try query.listOptions())
            var deleted: [JSONValue] = []
            for item in list.items {
                guard let name = item[path: ["metadata", "name"]]?.stringValue else { continue }
                // Objects deleted meanwhile by someone else are simply skipped.
                let outcome = try? await registry.delete(
                    info, namespace: item[path: ["metadata", "namespace"]]?.stringValue, name: name, dryRun: options.dryRun)
                switch outcome {
                case .deleted(let object)?: deleted.append(object)
                case .pending(let object)?: deleted.append(object)
                case nil: continue
                }
            }
            return Self.json([
                "kind": .string(info.kind + "List"), "apiVersion": .string(info.apiVersion), "metadata": .object([:]), "items": .array(deleted),
            ])
        default:
            throw APIError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
    }

    private func patch(
        _ info: KindInfo, _ path: ResourcePath, _ name: String, _ subresource: String?, _ request: Request, _ query: Query,
        _ options: WriteOptions
    ) async throws -> Response {
        let contentType = (request.headers[.contentType] ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let body = try await readBody(request)
        switch contentType {
        case "application/apply-patch+yaml", "application/apply-patch+cbor":
            guard query["fieldManager"] != nil else {
                throw APIError.badRequest("PATCH \(request.uri.path): fieldManager is required for apply requests")
            }
            let config: JSONValue
            do {
                let documents = try YAMLLoader().load(Array(body.readableBytesView), file: "request")
                guard documents.count == 1, case .object = documents[0].value else {
                    throw APIError.badRequest("an apply request must hold exactly one object")
                }
                config = documents[0].value
            } catch let error as YAMLError {
                throw APIError.badRequest("error decoding YAML: \(error.position): \(error.message)")
            }
            let (object, created) = try await registry.apply(
                info, namespace: path.namespace, name: name, configuration: config, options: options, force: query["force"] == "true",
                subresource: subresource)
            return Self.json(object, status: created ? .created : .ok)
        case "application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json":
            let patch = try parseJSON(body)
            let request: PatchRequest =
                contentType == "application/json-patch+json"
                ? .json(patch) : contentType == "application/merge-patch+json" ? .merge(patch) : .strategic(patch)
            let (object, _) = try await registry.applyPatch(
                info, namespace: path.namespace, name: name, request, options: options, subresource: subresource)
            return Self.json(object)
        default:
            throw APIError.unsupportedMediaType(contentType)
        }
    }

    private func scale(_ info: KindInfo, _ path: ResourcePath, _ name: String, _ request: Request, _ options: WriteOptions) async throws -> Response {
        let paths = try Scale.paths(info, registry.catalog)
        let body = try parseJSON(try await readBody(request))
        let isMergePatch = request.method == .patch
        var previous: Int64?
        let (object, _) = try await registry.patch(info, namespace: path.namespace, name: name, options: options) {
            (current: JSONValue?) throws -> JSONValue in
            var object = current ?? .object([:])
            previous = object[path: paths.specReplicas]?.intValue ?? 1
            let view = Scale.view(of: object, paths)
            let updated = isMergePatch ? JSONMergePatch.apply(body, to: view) : body
            guard let replicas = updated[path: ["spec", "replicas"]]?.intValue, replicas >= 0 else {
                throw APIError.invalid(
                    kind: "Scale", name: name,
                    errors: [
                        FieldError(
                            .invalid, FieldPath("spec", "replicas"), value: updated[path: ["spec", "replicas"]] ?? .null,
                            "must be greater than or equal to 0")
                    ])
            }
            object[path: paths.specReplicas] = .int(replicas)
            return object
        }
        if let from = previous, let to = object[path: paths.specReplicas]?.intValue, from != to, !options.dryRun {
            await events.record(
                object, reason: "Scaled", message: "Scaled \(info.kind.lowercased()) \(name) from \(from) to \(to) replicas",
                component: options.fieldManager)
        }
        return Self.json(Scale.view(of: object, paths))
    }

    // MARK: Bodies

    private func serve(_ route: APIRoute, _ request: Request) async throws -> Response {
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let body = try await readBody(request)
        let response = await route.handle(APIRoute.Request(query: Query(request).parameters, headers: headers, body: Array(body.readableBytesView)))
        return Self.json(response.body, status: .init(code: response.status))
    }

    private func readBody(_ request: Request) async throws -> ByteBuffer {
        var request = request
        do {
            return try await request.collectBody(upTo: limits.maxBodyBytes)
        } catch {
            throw APIError.tooLarge("the request body is larger than the \(limits.maxBodyBytes)-byte limit")
        }
    }

    /// A request body as JSON: JSON as it is, Kubernetes protobuf transcoded (ContentNegotiation.swift).
    private func readJSON(_ request: Request) async throws -> JSONValue {
        let body = try await readBody(request)
        if ContentNegotiation.isProtobuf(contentType: request.headers[.contentType]) { return try ContentNegotiation.decodeProtobufBody(body) }
        return try parseJSON(body)
    }

    private func readOptionalJSON(_ request: Request) async throws -> JSONValue? {
        let body = try await readBody(request)
        guard body.readableBytes > 0 else { return nil }
        if ContentNegotiation.isProtobuf(contentType: request.headers[.contentType]) { return try ContentNegotiation.decodeProtobufBody(body) }
        return try parseJSON(body)
    }

    private func parseJSON(_ body: ByteBuffer) throws -> JSONValue {
        do {
            return try JSONParser().parse(Array(body.readableBytesView))
        } catch {
            throw APIError.badRequest("the request body is not valid JSON: \(error)")
        }
    }

    private func defaultManager(_ request: Request) -> String {
        let agent = request.headers[.userAgent] ?? "unknown"
        return String(agent.prefix { $0 != "/" })
    }

    static func bytes(_ bytes: [UInt8], contentType: String) -> Response {
        Response(status: .ok, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// `/openapi/v2`: gnostic's protobuf form when asked for it (kubectl
    /// asks for nothing else), JSON otherwise.
    private func openAPIV2(accepting accept: String) throws -> Response {
        if accept.contains(OpenAPIDocuments.v2ProtobufAccept) || accept.contains(OpenAPIDocuments.v2ProtobufContentType) {
            return Self.bytes(try OpenAPIDocuments.v2Protobuf.get(), contentType: OpenAPIDocuments.v2ProtobufContentType)
        }
        return Self.bytes(JSONSerializer.bytes(OpenAPIDocuments.v2), contentType: "application/json")
    }

    /// An answer in JSON, or in protobuf where the client prefers it and the kind has a message.
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, contentType: String = "application/json") -> Response {
        ContentNegotiation.response(value, status: status, contentType: contentType)
    }
}

/// `autoscaling/v1` Scale views of workloads, for `kubectl scale`.
enum Scale {
    /// Where a kind keeps what a Scale shows.
    struct Paths {
        var specReplicas: [String]
        var statusReplicas: [String]
        /// A label selector object (the built-in workloads' `spec.selector`)…
        var selectorObject: [String]?
        /// …or a selector already written as a string (a custom kind's `labelSelectorPath`)…
        var selectorString: [String]?
        /// …or a plain map of labels (a ReplicationController's `spec.selector`).
        var selectorMap: [String]?
    }

    static func paths(_ info: KindInfo, _ catalog: KindCatalog) throws(APIError) -> Paths {
        if let scale = catalog.custom(info)?.version.scale {
            func split(_ path: String) -> [String] { path.split(separator: ".").map(String.init) }
            return Paths(
                specReplicas: split(scale.specReplicasPath), statusReplicas: split(scale.statusReplicasPath),
                selectorString: scale.labelSelectorPath.map(split))
        }
        if info == BuiltinKinds.replicationController, catalog.custom(info) == nil {
            return Paths(specReplicas: ["spec", "replicas"], statusReplicas: ["status", "replicas"], selectorMap: ["spec", "selector"])
        }
        guard ["Deployment", "ReplicaSet", "StatefulSet"].contains(info.kind), catalog.custom(info) == nil else {
            throw APIError(code: 404, reason: "NotFound", message: "\(info.resource) have no scale subresource")
        }
        return Paths(specReplicas: ["spec", "replicas"], statusReplicas: ["status", "replicas"], selectorObject: ["spec", "selector"])
    }

    static func view(of object: JSONValue, _ paths: Paths) -> JSONValue {
        var selector = ""
        if let path = paths.selectorObject {
            selector = (object[path: path]?.objectValue).map(LabelSelectorSpec.init(json:))?.selector?.description ?? ""
        } else if let path = paths.selectorString {
            selector = object[path: path]?.stringValue ?? ""
        } else if let path = paths.selectorMap {
            var labels = LabelSelectorSpec(json: [:])
            labels.matchLabels = Unstructured(json: object[path: Array(path.dropLast())]?.objectValue ?? [:])[stringMap: path.last ?? ""]
            selector = labels.selector?.description ?? ""
        }
        var metadata = JSONObject()
        for key in ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"] { metadata[key] = object[path: ["metadata", key]] }
        return [
            "kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": .object(metadata),
            "spec": ["replicas": object[path: paths.specReplicas] ?? .int(paths.selectorString != nil ? 0 : 1)],
            "status": ["replicas": object[path: paths.statusReplicas] ?? .int(0), "selector": .string(selector)],
        ]
    }
}

/// Query parameters, with the list and watch options parsed.
///
/// Decoded exactly once, as Go's `url.ParseQuery` decodes what client-go
/// encodes (`+` is a space, then percent escapes), from the raw query: every
/// reader of a request — authorization, watch admission, metrics and the
/// handler — goes through here, so none can see `watch=%2574rue` as
/// something other than what the handler serves.
struct Query {
    let parameters: [String: String]

    init(_ request: Request) {
        self.init(rawQuery: request.uri.query ?? "")
    }

    init(rawQuery: String) {
        var parameters: [String: String] = [:]
        for pair in rawQuery.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = Self.decode(parts[0]), !key.isEmpty else { continue }
            // The first value wins, as Go's `Values.Get` reads it.
            if parameters[key] == nil { parameters[key] = parts.count > 1 ? Self.decode(parts[1]) ?? "" : "" }
        }
        self.parameters = parameters
    }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    subscript(_ name: String) -> String? { parameters[name] }

    /// `fieldValidation`: Strict, Warn or Ignore; Warn when absent, as in Kubernetes.
    func fieldValidation() throws(APIError) -> FieldValidation {
        guard let text = self["fieldValidation"], !text.isEmpty else { return .warn }
        guard let directive = FieldValidation(rawValue: text) else {
            throw .badRequest("fieldValidation must be one of \"Strict\", \"Warn\" or \"Ignore\", not \"\(text)\"")
        }
        return directive
    }

    /// `watch=true` or `watch=1`.
    var isWatch: Bool { self["watch"] == "true" || self["watch"] == "1" }

    /// The longest a watch may run: Kubernetes' `--min-request-timeout` (1800 s)
    /// is the default, and a client may ask for less, never for more.
    static let maxWatchTimeoutSeconds = 1800

    func listOptions() throws(APIError) -> ListOptions {
        var options = ListOptions()
        if let selector = parameters["labelSelector"], !selector.isEmpty {
            do {
                options.labelSelector = try LabelSelector(parsing: selector)
            } catch {
                throw APIError.badRequest("unable to parse requirement: \(error.message)")
            }
        }
        if let selector = parameters["fieldSelector"], !selector.isEmpty { options.fieldSelector = try FieldSelector(parsing: selector) }
        options.resourceVersion = parameters["resourceVersion"] ?? ""
        options.resourceVersionMatch = parameters["resourceVersionMatch"]
        if let limit = parameters["limit"] {
            guard let value = Int(limit), value >= 0 else { throw APIError.badRequest("limit must be a non-negative integer, not \"\(limit)\"") }
            options.limit = value
        }
        options.continueToken = parameters["continue"]
        options.allowWatchBookmarks = parameters["allowWatchBookmarks"] == "true"
        if let timeout = parameters["timeoutSeconds"] {
            guard let value = Int(timeout), value >= 0 else { throw APIError.badRequest("timeoutSeconds must be a non-negative integer") }
            options.timeoutSeconds = min(value, Self.maxWatchTimeoutSeconds)
        }
        return options
    }
}
