import CapstanAPI
import CapstanAPIServer
import CapstanCore
import CapstanTestSupport
import CoreFoundation
import Foundation
import Logging
import Testing

@testable import CapstanGitOps

/// The GitOps routes called in-process, as the API server calls them after
/// authentication: no sockets, a real git repository, a fake cluster.
@Suite struct GitOpsRoutesTests {
    static let secret = "s3cret-for-tests"

    struct Harness {
        let git: GitFixture
        let cluster = FakeCluster()
        let engine: GitOpsEngine
        let service: GitOpsService
        let routes: [APIRoute]

        init() throws {
            git = try GitFixture()
            engine = GitOpsEngine(
                configuration: GitOpsConfiguration(remote: git.remote.path, directory: git.mirrorDirectory), cluster: cluster,
                logger: Logger(label: "test"))
            service = GitOpsService(engine: engine, logger: Logger(label: "test"))
            routes =
                GitOpsRoutes(engine: engine, service: service, webhook: Webhook(secret: Array(GitOpsRoutesTests.secret.utf8), branch: "main")).all
        }

        func call(_ method: String, _ path: String, body: String = "", headers: [String: String] = [:], query: [String: String] = [:])
            async throws -> APIRoute.Response
        {
            let route = try #require(routes.first { $0.method == method && $0.path == path })
            return await route.handle(APIRoute.Request(query: query, headers: headers, body: Array(body.utf8)))
        }

        /// The next sync the routes asked the service for.
        func nextTrigger() async -> String? {
            var triggers = service.triggers.makeAsyncIterator()
            return await triggers.next()
        }
    }

    @Test(arguments: [
        ("GET", "/history", APIRoute.Access.reader), ("GET", "/drift", .reader), ("POST", "/sync", .writer), ("POST", "/rollback", .writer),
        ("POST", "/diff", .writer), ("POST", "/hooks/git", .anyone),
    ])
    func eachRouteDeclaresWhoMayCallIt(method: String, path: String, access: APIRoute.Access) throws {
        let harness = try Harness()
        let route = try #require(harness.routes.first { $0.method == method && $0.path == path })
        #expect("\(route.access)" == "\(access)")
        #expect(harness.routes.count == 6)
    }

    @Test func syncAsksTheServiceForASync() async throws {
        let harness = try Harness()
        let response = try await harness.call("POST", "/sync")
        #expect(response.status == 202)
        #expect(await harness.nextTrigger() == "capstan sync")
    }

    @Test func reportsAreServedAsJSON() async throws {
        let harness = try Harness()
        let history = try await harness.call("GET", "/history")
        #expect(history.status == 200 && history.body["items"] == .array([]))
        let drift = try await harness.call("GET", "/drift")
        #expect(drift.status == 200 && drift.body["driftedObjects"] == 0)
    }

    @Test(arguments: [
        ([:], [:], 401, "no webhook signature or token"),
        (["X-Capstan-Token": "wrong"], [:], 401, "does not match"),
        (["X-Hub-Signature-256": "sha256=0000"], [:], 401, "X-Hub-Signature-256"),
        (["X-Capstan-Token": secret], ["token": secret], 401, "?token= is not accepted"),
    ])
    func aHookWithoutTheSecretIsRefused(headers: [String: String], query: [String: String], status: Int, message: String) async throws {
        let harness = try Harness()
        let response = try await harness.call("POST", "/hooks/git", body: "{}", headers: headers, query: query)
        #expect(response.status == status)
        #expect(response.body["message"]?.stringValue?.contains(message) == true, "\(response.body)")
    }

    @Test func aSignedPushToTheFollowedBranchTriggersASync() async throws {
        let harness = try Harness()
        let body = #"{"ref":"refs/heads/main","after":"0123456789abcdef"}"#
        let signature = "sha256=" + HMAC.hex(key: Array(Self.secret.utf8), message: Array(body.utf8))
        let response = try await harness.call("POST", "/hooks/git", body: body, headers: ["x-hub-signature-256": signature])
        #expect(response.status == 202 && response.body["message"] == "sync requested: github push 01234567", "\(response.body)")
        #expect(await harness.nextTrigger() == "github push 01234567")
    }

    @Test func hooksForOtherBranchesAndBrokenBodiesChangeNothing() async throws {
        let harness = try Harness()
        var response = try await harness.call("POST", "/hooks/git", body: #"{"ref":"refs/heads/other"}"#, headers: ["X-Capstan-Token": Self.secret])
        #expect(response.status == 202 && response.body["message"]?.stringValue?.hasPrefix("ignored: push to refs/heads/other") == true)
        response = try await harness.call("POST", "/hooks/git", body: "{\"ref\": [", headers: ["X-Capstan-Token": Self.secret])
        #expect(response.status == 400)
    }

    @Test(arguments: [
        ("", "POST /diff needs"), ("[1, 2", "POST /diff needs"), (#"{"files": [{"path": "a.yaml"}]}"#, "every file needs a path and base64 content"),
        (#"{"files": [{"path": "a.yaml", "content": "***"}]}"#, "every file needs a path and base64 content"),
    ])
    func aDiffBodyThatIsNotATreeIsABadRequest(body: String, message: String) async throws {
        let harness = try Harness()
        let response = try await harness.call("POST", "/diff", body: body)
        #expect(response.status == 400)
        #expect(response.body["message"]?.stringValue?.hasPrefix(message) == true, "\(response.body)")
    }

    @Test func aDiffOfATreeNamesWhatWouldBeCreated() async throws {
        let harness = try Harness()
        let manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n  a: b\n"
        let body: JSONValue = ["files": [["path": "settings.yaml", "content": .string(Base64.encode(Array(manifest.utf8)))]]]
        let response = try await harness.call("POST", "/diff", body: JSONSerializer.string(body))
        #expect(response.status == 200, "\(response.body)")
        #expect(response.body["objects"]?.arrayValue?.map { $0["action"] } == ["create"], "\(response.body)")
    }

    /// A garbled body used to be read as "no commit named" and revert the applied commit.
    @Test(arguments: ["{\"commit\": ", "[\"abc\"]", "not json"])
    func aRollbackBodyThatIsNotAnObjectIsABadRequest(body: String) async throws {
        let harness = try Harness()
        let response = try await harness.call("POST", "/rollback", body: body)
        #expect(response.status == 400, "\(response.body)")
    }

    @Test func aRollbackGitRefusesIsUnprocessable() async throws {
        let harness = try Harness()
        var response = try await harness.call("POST", "/rollback")
        #expect(
            response.status == 422 && response.body["message"]?.stringValue?.contains("no commit has been applied yet") == true, "\(response.body)")
        response = try await harness.call("POST", "/rollback", body: #"{"commit": "0000000000000000000000000000000000000000"}"#)
        #expect(response.status == 422, "\(response.body)")
    }

    @Test func aRollbackMakesARevertCommitAndTriggersASync() async throws {
        let harness = try Harness()
        let manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n  a: b\n"
        let added = try harness.git.commit(["settings.yaml": manifest], message: "add settings")
        let record = try #require(await harness.engine.sync(trigger: "test"))
        #expect(record.result != .failed, "\(record.errors)")
        let response = try await harness.call("POST", "/rollback", body: #"{"reason": "testing"}"#)
        #expect(response.status == 201, "\(response.body)")
        let revert = try #require(response.body["commit"]?.stringValue)
        #expect(revert != added && response.body["summary"] == "Revert \"add settings\"")
        #expect(await harness.nextTrigger() == "rollback \(revert.prefix(8))")
    }
}

/// Building GitOps for a server: the webhook secret file.
@Suite struct WebhookSecretFileTests {
    @Test func aMissingDefaultSecretIsMadePrivate() async throws {
        try await TemporaryDirectory.with(prefix: "capstan-secret") { directory in
            let path = directory.appending("webhook-secret")
            let secret = try WebhookSecretFile(path: path, createIfMissing: true).load()
            #expect(secret.count == 64)
            var info = stat()
            #expect(stat(path, &info) == 0 && info.st_mode & 0o777 == 0o600)
            #expect(try WebhookSecretFile(path: path, createIfMissing: true).load() == secret)
        }
    }

    @Test func aNamedSecretFileMustExist() throws {
        #expect(throws: GitOpsSetupError.self) { try WebhookSecretFile(path: "/nonexistent/secret", createIfMissing: false).load() }
    }
}
