public import CapstanAPI
public import CapstanCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import OrderedCollections
import Synchronization

/// A ``ClusterClient`` speaking HTTP/1.1 (over TLS for `https://`) to a
/// remote `capstan server`: the node agent's way in from another machine.
///
/// Ordinary requests share a small pool of keep-alive connections
/// (``Configuration/maxConnections``); each watch holds a connection of its
/// own for as long as it streams, and closes it when it ends or its consumer
/// stops. Failed requests throw the `APIError` the server's `Status` body
/// describes — the same error ``InProcessClient`` throws — and transport
/// failures throw a ``TransportError`` naming the server.
public final class HTTPClusterClient: ClusterClient {
    let configuration: Configuration
    let connector: HTTPConnector
    let pool: HTTPConnectionPool
    /// `host:port`, as the `Host` header carries it.
    let authority: String
    /// Watch connections open now; each closes when its watch ends.
    let watchConnections = Atomic<Int>(0)

    public init(configuration: Configuration) throws {
        guard let url = URL(string: configuration.server), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty
        else {
            throw ConfigurationError(description: "server \"\(configuration.server)\" is not an http:// or https:// URL")
        }
        let secure = scheme == "https"
        var tls: NIOSSLContext?
        if secure {
            var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
            if configuration.insecureSkipTLSVerify {
                tlsConfiguration.certificateVerification = .none
            } else if let pem = configuration.certificateAuthorityPEM {
                do {
                    tlsConfiguration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(pem))
                } catch {
                    throw ConfigurationError(description: "the certificate authority for \(configuration.server) is not PEM: \(error)")
                }
            }
            tls = try NIOSSLContext(configuration: tlsConfiguration)
        }
        let port = url.port ?? (secure ? 443 : 80)
        let server = "\(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        self.configuration = configuration
        self.authority = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        connector = HTTPConnector(host: host, port: port, tls: tls, connectTimeout: configuration.connectTimeout, server: server)
        pool = HTTPConnectionPool(connector: connector, maxConnections: configuration.maxConnections)
    }

    /// The server's URL, as the configuration gives it.
    public var server: String { configuration.server }

    /// Closes the idle pooled connections. Open watches end when their consumers stop.
    public func shutdown() async {
        await pool.shutdown()
    }

    // MARK: ClusterClient

    public func get(_ kind: KindInfo, namespace: String?, name: String) async throws -> JSONValue {
        try await json(APIRequest(method: .GET, path: APIRequest.path(kind, namespace: Self.namespace(kind, namespace), name: name)))
    }

    public func list(_ kind: KindInfo, namespace: String?, options: ListOptions) async throws -> ObjectList {
        var request = APIRequest(method: .GET, path: APIRequest.path(kind, namespace: namespace))
        request.add(options)
        let list = try await json(request)
        guard let items = list["items"]?.arrayValue ?? (list["items"] == .null ? [] : nil) else {
            throw TransportError(server: connector.server, "GET \(request.path) answered something that is not a list")
        }
        return ObjectList(
            items: items, resourceVersion: list[path: ["metadata", "resourceVersion"]]?.stringValue ?? "",
            continueToken: list[path: ["metadata", "continue"]]?.stringValue.flatMap { $0.isEmpty ? nil : $0 })
    }

    public func create(_ kind: KindInfo, namespace: String?, object: JSONValue, options: WriteOptions) async throws -> JSONValue {
        let namespace = Self.namespace(kind, namespace ?? object[path: ["metadata", "namespace"]]?.stringValue)
        var request = APIRequest(
            method: .POST, path: APIRequest.path(kind, namespace: namespace), body: JSONSerializer.bytes(object), contentType: "application/json")
        request.add(options)
        return try await json(request)
    }

    public func update(
        _ kind: KindInfo, namespace: String?, name: String, object: JSONValue, options: WriteOptions, subresource: String?
    ) async throws -> JSONValue {
        let namespace = Self.namespace(kind, namespace ?? object[path: ["metadata", "namespace"]]?.stringValue)
        var request = APIRequest(
            method: .PUT, path: APIRequest.path(kind, namespace: namespace, name: name, subresource: subresource), body: JSONSerializer.bytes(object),
            contentType: "application/json")
        request.add(options)
        return try await json(request)
    }

    public func patch(
        _ kind: KindInfo, namespace: String?, name: String, patch: PatchRequest, options: WriteOptions, subresource: String?
    ) async throws -> JSONValue {
        var request = APIRequest(
            method: .PATCH, path: APIRequest.path(kind, namespace: Self.namespace(kind, namespace), name: name, subresource: subresource))
        request.add(options)
        switch patch {
        case .json(let body): (request.body, request.contentType) = (JSONSerializer.bytes(body), "application/json-patch+json")
        case .merge(let body): (request.body, request.contentType) = (JSONSerializer.bytes(body), "application/merge-patch+json")
        case .strategic(let body): (request.body, request.contentType) = (JSONSerializer.bytes(body), "application/strategic-merge-patch+json")
        case .apply(let body, let force):
            // JSON is YAML: the configuration goes as is.
            (request.body, request.contentType) = (JSONSerializer.bytes(body), "application/apply-patch+yaml")
            if force { request.query.append(("force", "true")) }
        }
        return try await json(request)
    }

    public func delete(_ kind: KindInfo, namespace: String?, name: String, options: DeleteOptions) async throws -> DeleteOutcome {
        var body: JSONObject = ["kind": "DeleteOptions", "apiVersion": "v1"]
        if let grace = options.gracePeriodSeconds { body["gracePeriodSeconds"] = .int(grace) }
        if let uid = options.preconditionUID { body["preconditions"] = ["uid": .string(uid)] }
        if options.dryRun { body["dryRun"] = ["All"] }
        var request = APIRequest(
            method: .DELETE, path: APIRequest.path(kind, namespace: Self.namespace(kind, namespace), name: name),
            body: JSONSerializer.bytes(.object(body)), contentType: "application/json")
        // The server reads dryRun from the query; DeleteOptions carries it too, as kubectl sends it.
        if options.dryRun { request.query.append(("dryRun", "All")) }
        let answer = try await json(request)
        // Removed now: a Success Status naming the uid, or (pods, services, service
        // accounts) the object as it last was. Only marked: the object, with a
        // deletion timestamp and what holds it (finalizers, a grace period for a node).
        // The HTTP status does not tell them apart: kube-apiserver answers 200 to both.
        guard answer["kind"]?.stringValue != "Status", let metadata = answer["metadata"],
            metadata["deletionTimestamp"]?.stringValue != nil,
            !(metadata["finalizers"]?.arrayValue ?? []).isEmpty || (metadata["deletionGracePeriodSeconds"]?.intValue ?? 0) > 0
        else { return .deleted(answer) }
        return .pending(answer)
    }

    public func bind(podNamespace: String, name: String, node: String, options: WriteOptions) async throws {
        let binding: JSONValue = [
            "apiVersion": "v1", "kind": "Binding", "metadata": ["name": .string(name), "namespace": .string(podNamespace)],
            "target": ["apiVersion": "v1", "kind": "Node", "name": .string(node)],
        ]
        var request = APIRequest(
            method: .POST, path: APIRequest.path(BuiltinKinds.pod, namespace: podNamespace, name: name, subresource: "binding"),
            body: JSONSerializer.bytes(binding), contentType: "application/json")
        request.add(options)
        _ = try await json(request)
    }

    public func requestToken(serviceAccount name: String, namespace: String, request: JSONValue) async throws -> JSONValue {
        try await json(
            APIRequest(
                method: .POST, path: APIRequest.path(BuiltinKinds.serviceAccount, namespace: namespace, name: name, subresource: "token"),
                body: JSONSerializer.bytes(request), contentType: "application/json"))
    }

    // MARK: Requests

    /// A namespaced kind addressed without a namespace means `default`, as kubectl takes it.
    /// Discovery as kubectl's legacy path reads it: `/apis` for the groups,
    /// then the resource list of each version of a group that is not built in.
    public func servedKinds() async throws -> [KindInfo] {
        let builtinGroups = Set(BuiltinKinds.all.map(\.group))
        var kinds = BuiltinKinds.all
        let groups = try await json(APIRequest(method: .GET, path: "/apis"))["groups"]?.arrayValue ?? []
        for group in groups {
            guard let name = group["name"]?.stringValue, !builtinGroups.contains(name) else { continue }
            for version in group["versions"]?.arrayValue ?? [] {
                guard let groupVersion = version["groupVersion"]?.stringValue, let versionName = version["version"]?.stringValue else { continue }
                let list = try await json(APIRequest(method: .GET, path: "/apis/\(groupVersion)"))
                for resource in list["resources"]?.arrayValue ?? [] {
                    guard let plural = resource["name"]?.stringValue, !plural.contains("/"), let kind = resource["kind"]?.stringValue else {
                        continue
                    }
                    kinds.append(
                        KindInfo(
                            group: name, version: versionName, kind: kind, resource: plural, namespaced: resource["namespaced"]?.boolValue ?? true,
                            shortNames: (resource["shortNames"]?.arrayValue ?? []).compactMap(\.stringValue)))
                }
            }
        }
        return kinds
    }

    static func namespace(_ kind: KindInfo, _ namespace: String?) -> String? {
        kind.namespaced ? (namespace ?? "default") : nil
    }

    /// Sends a request and parses its JSON answer; a failure status throws its `APIError`.
    func json(_ request: APIRequest) async throws -> JSONValue {
        let response = try await send(request)
        guard (200..<300).contains(response.status) else {
            throw StatusError.apiError(status: response.status, body: response.bytes, method: request.method.rawValue, path: request.path)
        }
        do {
            return try JSONParser().parse(response.bytes)
        } catch {
            throw TransportError(
                server: connector.server,
                "\(request.method.rawValue) \(request.path) answered HTTP \(response.status) with a body that is not JSON: \(error)")
        }
    }

    /// One exchange on a pooled connection. A reused connection the server
    /// closed while it was idle fails before any byte comes back; such a
    /// request goes once more on a fresh connection (except POST, which is not idempotent).
    func send(_ request: APIRequest) async throws -> CollectedResponse {
        var attempt = 0
        while true {
            attempt += 1
            let (channel, reused) = try await pool.acquire()
            do {
                let response = try await exchange(request, on: channel)
                await pool.release(channel, reusable: response.head.isKeepAlive)
                return response
            } catch let failure as ExchangeFailure {
                await pool.release(channel, reusable: false)
                if case .closedBeforeResponse = failure, reused, attempt == 1, request.method != .POST, !Task.isCancelled { continue }
                throw transportError(failure, request)
            } catch {
                await pool.release(channel, reusable: false)
                throw error
            }
        }
    }

    private func exchange(_ request: APIRequest, on channel: any Channel) async throws -> CollectedResponse {
        let promise = channel.eventLoop.makePromise(of: CollectedResponse.self)
        let exchange = HTTPExchange(
            head: head(request), body: request.body.map { ByteBuffer(bytes: $0) }, sink: .collect(promise, maxBytes: configuration.maxResponseBytes))
        let timedOut = Flag()
        let timer = channel.eventLoop.scheduleTask(in: configuration.requestTimeout.timeAmount) {
            timedOut.set()
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            // A channel closed before the write never reaches the handler: fail here too
            // (a promise completes once; the handler's own failure wins when it came first).
            channel.writeAndFlush(exchange).whenFailure { error in
                promise.fail(ExchangeFailure.closedBeforeResponse(underlying: "\(error)"))
            }
            do {
                return try await promise.futureResult.get()
            } catch {
                if timedOut.isSet {
                    throw TransportError(
                        server: connector.server, "\(request.method.rawValue) \(request.path) timed out after \(configuration.requestTimeout)")
                }
                if Task.isCancelled { throw CancellationError() }
                throw error
            }
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    func head(_ request: APIRequest) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: authority)
        headers.add(name: "Accept", value: "application/json")
        headers.add(name: "User-Agent", value: configuration.userAgent)
        if let token = configuration.bearerToken { headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body = request.body {
            headers.add(name: "Content-Type", value: request.contentType ?? "application/json")
            headers.add(name: "Content-Length", value: String(body.count))
        }
        return HTTPRequestHead(version: .http1_1, method: request.method, uri: request.uri, headers: headers)
    }

    func transportError(_ failure: ExchangeFailure, _ request: APIRequest) -> TransportError {
        let what = "\(request.method.rawValue) \(request.path)"
        switch failure {
        case .closedBeforeResponse(let reason):
            return TransportError(server: connector.server, "\(what): the connection closed before a response" + (reason.map { " (\($0))" } ?? ""))
        case .closedMidResponse(let reason):
            return TransportError(
                server: connector.server, "\(what): the connection closed in the middle of the response" + (reason.map { " (\($0))" } ?? ""))
        case .tooLarge(let limit):
            return TransportError(server: connector.server, "\(what): the response is larger than the client's \(limit)-byte limit")
        case .busy:
            return TransportError(server: connector.server, "\(what): the connection was still busy with another request")
        }
    }

    // MARK: Observability (tests)

    /// Pooled connections open now.
    var openPooledConnections: Int { get async { await pool.openConnections } }

    /// Watch connections open now.
    var openWatchConnections: Int { watchConnections.load(ordering: .sequentiallyConsistent) }
}

/// Set once, read from any thread: "the timer fired".
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)

    func set() { value.store(true, ordering: .sequentiallyConsistent) }

    var isSet: Bool { value.load(ordering: .sequentiallyConsistent) }
}
