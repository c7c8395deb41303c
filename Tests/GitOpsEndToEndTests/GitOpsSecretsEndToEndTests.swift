import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

/// `hunter2` (in git), `swordfish` and `new-pass` (set by hand, or in a local tree), a PIN:
/// what must never come out of the GitOps endpoints.
private let secretValues = ["aHVudGVyMg==", "hunter2", "c3dvcmRmaXNo", "swordfish", "bmV3LXBhc3M=", "new-pass", "48213"]

private func leaked(_ text: String) -> [String] { secretValues.filter(text.contains) }

private func secret(password: String = "aHVudGVyMg==") -> String {
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: demo\ntype: Opaque\ndata:\n  password: \(password)\nstringData:\n  pin: \"48213\"\n"
}

private let namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n"

private func settings(selfHeal: Bool) -> String {
    "apiVersion: capstan.io/v1alpha1\nkind: Repository\npaths: [deploy]\nsyncInterval: 60s\nselfHeal: \(selfHeal)\n"
}

/// A request with curl as the holder of `token` (the harness's `http` sends the admin's).
private func request(
    _ server: RunningServer, token: String, _ method: String, _ path: String, body: String? = nil
) async throws -> (status: Int, body: String) {
    var arguments = ["-s", "-X", method, "-w", "\n%{http_code}", "--cacert", server.caPath, "-H", "Authorization: Bearer \(token)"]
    if let body { arguments += ["--data-binary", body] }
    let result = try await runCommand("/usr/bin/curl", arguments + [server.url + path])
    let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false)
    return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
}

extension GitOpsEndToEndTests {
    /// The hardening report's case: a viewer, who gets 403 for `kubectl get
    /// secret`, must not learn a Secret's value through `/diff`, `/drift`,
    /// `/history`, `/status` or the inventory either; admins see keys, not values.
    @Test func noGitOpsEndpointOrCommandShowsASecretsValue() async throws {
        let git = try GitFixture()
        let start = try git.commit(
            ["capstan.yaml": settings(selfHeal: false), "deploy/namespace.yaml": namespace, "deploy/db.yaml": secret()], message: "Start")
        let server = try await RunningServer(arguments: ["--repo", git.remote.path, "--default-policies", projectPolicies])
        defer { server.stop() }
        try await eventually("the first commit is applied") { try await lastSync(server)?["commit"]?.stringValue == start }
        let viewer = try await server.token(role: "viewer")
        let viewerKubeconfig = try await server.writeKubeconfig(token: viewer, name: "viewer.kubeconfig")
        let forbidden = try await server.kubectl(kubeconfig: viewerKubeconfig, ["get", "secret", "db", "-n", "demo"])
        #expect(forbidden.status != 0 && forbidden.output.contains("forbidden"), "\(forbidden.output)")

        // POST /diff with a manifest named like the live Secret: admins only (a dry-run write, as for kubectl diff)…
        let probe: JSONValue = [
            "files": [
                ["path": "capstan.yaml", "content": .string(Base64.encode(Array(settings(selfHeal: false).utf8)))],
                ["path": "deploy/namespace.yaml", "content": .string(Base64.encode(Array(namespace.utf8)))],
                ["path": "deploy/db.yaml", "content": .string(Base64.encode(Array(secret(password: "bmV3LXBhc3M=").utf8)))],
            ]
        ]
        var response = try await request(server, token: viewer, "POST", "/diff", body: JSONSerializer.string(probe))
        #expect(response.status == 403 && leaked(response.body).isEmpty, "\(response)")
        // …and even for them the values are masked, as kubectl diff masks them.
        response = try await server.http("POST", "/diff", body: JSONSerializer.string(probe))
        #expect(response.status == 200 && response.body.contains("data.password") && response.body.contains("*** (before)"), "\(response)")
        #expect(leaked(response.body).isEmpty, "\(response.body)")

        // A hand edit is drift: the viewer sees which key differs, not its values.
        let patched = try await server.kubectl(
            "patch", "secret", "db", "-n", "demo", "--type", "merge", "-p", #"{"data":{"password":"c3dvcmRmaXNo"}}"#)
        #expect(patched.status == 0, "\(patched.output)")
        try await eventually("the drift is reported") { try await server.capstan("drift").status == 1 }
        response = try await request(server, token: viewer, "GET", "/drift")
        #expect(response.status == 200 && response.body.contains("data.password") && response.body.contains("*** (after)"), "\(response)")
        #expect(leaked(response.body).isEmpty, "\(response.body)")
        let drift = try await runCommand(RunningServer.capstanBinary, ["drift", "--kubeconfig", viewerKubeconfig])
        #expect(drift.status == 1 && drift.output.contains("data.password") && drift.output.contains("git:  *** (after)"), "\(drift.output)")
        #expect(leaked(drift.output).isEmpty, "\(drift.output)")

        // capstan diff of a working tree with another value: the key, masked on both sides.
        try secret(password: "bmV3LXBhc3M=").write(to: git.work.appending(path: "deploy/db.yaml"), atomically: true, encoding: .utf8)
        let diff = try await server.capstan("diff", git.work.path)
        #expect(diff.status == 1 && diff.output.contains("data.password: *** (before) → *** (after)"), "\(diff.output)")
        #expect(leaked(diff.output).isEmpty, "\(diff.output)")
        try git.git(["checkout", "--", "deploy/db.yaml"], in: git.work)

        // The inventory, which viewers may read, holds an HMAC of the Secret under a server key.
        let inventory = try await server.kubectl(
            kubeconfig: viewerKubeconfig, ["get", "configmap", "gitops-inventory-0", "-n", "capstan-system", "-o", "jsonpath={.data.objects}"])
        let entries = try inventory.output.split(separator: "\n").map { try JSONParser().parse(Array($0.utf8)) }
        let digest = entries.first { $0["kind"] == "Secret" }?["hash"]?.stringValue ?? ""
        #expect(digest.hasPrefix("hmac-sha256:"), "\(inventory.output)")
        #expect(entries.first { $0["kind"] == "Namespace" }?["hash"]?.stringValue?.count == 64, "\(inventory.output)")

        // Self-heal on: the heal is recorded in the history with the key only.
        let heal = try git.commit(["capstan.yaml": settings(selfHeal: true)], message: "Heal")
        try await hook(server)
        try await eventually("self-heal is on") { try await statusJSON(server)[path: ["gitops", "syncedCommit", "id"]]?.stringValue == heal }
        #expect(
            try await server.kubectl("patch", "secret", "db", "-n", "demo", "--type", "merge", "-p", #"{"data":{"password":"bmV3LXBhc3M="}}"#).status
                == 0)
        try await eventually("the Secret is healed") {
            try await server.kubectl("get", "secret", "db", "-n", "demo", "-o", "jsonpath={.data.password}").output == "aHVudGVyMg=="
        }
        try await eventually("the heal is in the history") { try await server.http("GET", "/history").body.contains("Healed") }
        let history = try await request(server, token: viewer, "GET", "/history")
        #expect(history.status == 200 && history.body.contains("data.password"), "\(history)")
        let status = try await request(server, token: viewer, "GET", "/status")
        let records = try await server.kubectl("get", "configmaps", "-n", "capstan-system", "-o", "json")
        for text in [history.body, status.body, records.output, try await request(server, token: viewer, "GET", "/drift").body] {
            #expect(leaked(text).isEmpty, "\(text)")
        }
    }
}

extension GitOpsEndToEndTests {
    /// A Secret committed with `stringData` is applied (server-side apply) as
    /// the API server stores it, base64 in `data` with `stringData` winning
    /// for the same key; the live Secret holds no `stringData`, and that is
    /// not drift: once a hand edit is undone by hand, the drift report is empty.
    @Test func aSecretWithStringDataEndsInDataAndIsNotDriftForever() async throws {
        let git = try GitFixture()
        let manifest =
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: demo\ndata:\n  password: b2xk\nstringData:\n  password: hunter2\n"
        let start = try git.commit(
            ["capstan.yaml": settings(selfHeal: false), "deploy/namespace.yaml": namespace, "deploy/db.yaml": manifest], message: "Start")
        let server = try await RunningServer(arguments: ["--repo", git.remote.path, "--default-policies", projectPolicies])
        defer { server.stop() }
        try await eventually("the first commit is applied") { try await lastSync(server)?["commit"]?.stringValue == start }
        let password = try await server.kubectl("get", "secret", "db", "-n", "demo", "-o", "jsonpath={.data.password}")
        #expect(password.output == "aHVudGVyMg==", "\(password.output)")

        for value in ["c3dvcmRmaXNo", "aHVudGVyMg=="] {
            let patched = try await server.kubectl(
                "patch", "secret", "db", "-n", "demo", "--type", "merge", "-p", #"{"data":{"password":"\#(value)"}}"#)
            #expect(patched.status == 0, "\(patched.output)")
            if value != "aHVudGVyMg==" {
                try await eventually("the hand edit is drift") { try await server.capstan("drift").output.contains("data.password") }
            }
        }
        try await eventually("the Secret is back in sync") { try await server.capstan("drift").status == 0 }
    }
}
