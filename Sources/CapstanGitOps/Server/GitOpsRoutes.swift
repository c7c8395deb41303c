package import CapstanAPI
import CapstanCore
import OrderedCollections

/// The GitOps endpoints beside the Kubernetes API: `GET /history`,
/// `GET /drift`, `POST /sync`, `POST /rollback`, `POST /diff` and the
/// webhook `POST /hooks/git`. Each answers JSON; bad bodies get 400 with
/// what was expected, a rollback git refuses gets 422.
package struct GitOpsRoutes: Sendable {
    let engine: GitOpsEngine
    let service: GitOpsService
    let webhook: Webhook

    package init(engine: GitOpsEngine, service: GitOpsService, webhook: Webhook) {
        self.engine = engine
        self.service = service
        self.webhook = webhook
    }

    /// The routes, with who may call each once authentication is in force.
    package var all: [APIRoute] {
        [
            APIRoute("GET", "/history", access: .reader) { _ in await history() },
            APIRoute("GET", "/drift", access: .reader) { _ in await drift() },
            APIRoute("POST", "/sync", access: .writer) { _ in sync() },
            APIRoute("POST", "/rollback", access: .writer) { request in await rollback(request) },
            // Like `kubectl diff`, which needs to read and dry-run-patch what it
            // compares: a tree's diff shows live values and is a dry-run write, so admins only.
            APIRoute("POST", "/diff", access: .writer) { request in await diff(request) },
            // The hook proves itself with the shared secret, not a token.
            APIRoute("POST", "/hooks/git", access: .anyone) { request in hook(request) },
        ]
    }

    func history() async -> APIRoute.Response {
        Self.answer(await engine.historyReport())
    }

    func drift() async -> APIRoute.Response {
        Self.answer(await engine.driftReport())
    }

    func sync() -> APIRoute.Response {
        service.trigger("capstan sync")
        return .init(status: 202, body: ["message": "sync requested"])
    }

    /// `{"commit": "…", "reason": "…"}`, both optional: the applied commit is reverted by default.
    func rollback(_ request: APIRoute.Request) async -> APIRoute.Response {
        let body: JSONValue
        if request.body.allSatisfy({ [0x20, 0x0A, 0x0D, 0x09].contains($0) }) {
            body = .object([:])
        } else {
            guard let parsed = try? JSONParser().parse(request.body), case .object = parsed else {
                return .init(status: 400, body: ["message": "POST /rollback takes {\"commit\": …, \"reason\": …} (both optional)"])
            }
            body = parsed
        }
        do {
            let commit = try await engine.rollback(body["commit"]?.stringValue, reason: body["reason"]?.stringValue)
            service.trigger("rollback \(commit.shortID)")
            return .init(status: 201, body: ["commit": .string(commit.id), "summary": .string(commit.summary)])
        } catch {
            return .init(status: 422, body: ["message": .string("\(error)")])
        }
    }

    /// `{"files": [{"path": …, "content": base64}]}`: a local tree to compare with the cluster.
    func diff(_ request: APIRoute.Request) async -> APIRoute.Response {
        let body = (try? JSONParser().parse(request.body)) ?? .null
        guard let items = body["files"]?.arrayValue else {
            return .init(status: 400, body: ["message": "POST /diff needs {\"files\": [{\"path\": …, \"content\": base64}]}"])
        }
        var files: [(path: String, contents: [UInt8])] = []
        for item in items {
            guard let path = item["path"]?.stringValue, let content = item["content"]?.stringValue.flatMap(Base64.decode) else {
                return .init(status: 400, body: ["message": "every file needs a path and base64 content"])
            }
            files.append((path, content))
        }
        return Self.answer(await engine.diff(files: files))
    }

    /// A report as JSON, the same encoding the CLI decodes (``GitOpsReportCoding``).
    static func answer(_ report: some Encodable) -> APIRoute.Response {
        do {
            return .init(body: try GitOpsReportCoding.json(report))
        } catch {
            return .init(status: 500, body: ["message": .string("the report could not be encoded: \(error)")])
        }
    }

    func hook(_ request: APIRoute.Request) -> APIRoute.Response {
        switch webhook.handle(headers: request.headers, query: request.query, body: request.body) {
        case .sync(let reason):
            service.trigger(reason)
            return .init(status: 202, body: ["message": .string("sync requested: \(reason)")])
        case .ignored(let reason):
            return .init(status: 202, body: ["message": .string("ignored: \(reason)")])
        case .unauthorized(let reason):
            return .init(status: 401, body: ["message": .string(reason)])
        case .badRequest(let reason):
            return .init(status: 400, body: ["message": .string(reason)])
        }
    }
}
