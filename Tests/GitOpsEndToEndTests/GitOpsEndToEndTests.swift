import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

private let repositoryConfig = """
    apiVersion: capstan.io/v1alpha1
    kind: Repository
    paths: [deploy]
    syncInterval: 60s
    selfHeal: true

    """

private func configMap(_ name: String, _ value: String) -> String {
    """
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: \(name)
      namespace: demo
    data:
      value: "\(value)"

    """
}

private func deployment(image: String) -> String {
    """
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      namespace: demo
    spec:
      replicas: 2
      selector:
        matchLabels: {app: web}
      template:
        metadata:
          labels: {app: web}
        spec:
          containers:
          - name: web
            image: \(image)
            resources:
              requests: {cpu: 10m, memory: 16Mi}
              limits: {cpu: 100m, memory: 32Mi}

    """
}

/// The project's default policies, as a server installed from this checkout uses them.
var projectPolicies: String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appending(path: "policies")
        .path
}

/// Drives a real `capstan server --repo` with real git commits, the webhook, kubectl and the capstan CLI.
@Suite(.serialized) struct GitOpsEndToEndTests {
    /// Waits (bounded) until `condition` holds; returns how long it took.
    @discardableResult
    func measuredWait(_ what: String, timeout: Duration = .seconds(120), _ condition: () async throws -> Bool) async throws -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        while clock.now - start < timeout {
            if try await condition() { return clock.now - start }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("timed out waiting until \(what)")
        throw CancellationError()
    }

    func hook(_ server: RunningServer) async throws {
        let secret = try String(contentsOfFile: server.dataDirectory + "/webhook-secret", encoding: .utf8)
        let response = try await server.http("POST", "/hooks/git", body: #"{"ref":"refs/heads/main"}"#, headers: ["X-Capstan-Token": secret])
        #expect(response.status == 202, "\(response.body)")
    }

    func statusJSON(_ server: RunningServer) async throws -> JSONValue {
        let result = try await server.capstan("status", "-o", "json")
        #expect(result.status == 0, "\(result.output)")
        return try JSONParser().parse(result.output)
    }

    func lastSync(_ server: RunningServer) async throws -> JSONValue? {
        try await statusJSON(server)[path: ["gitops", "lastSync"]]
    }

    @Test func commitsBecomeObjectsAndTheClusterFollowsGit() async throws {
        let git = try GitFixture()
        var commit = try git.commit(
            [
                "capstan.yaml": repositoryConfig, "deploy/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n",
                "deploy/settings.yaml": configMap("settings", "one"), "deploy/web.yaml": deployment(image: "localhost/web:1.0"),
            ], message: "Start")
        let server = try await RunningServer(arguments: ["--repo", git.remote.path, "--default-policies", projectPolicies])
        defer { server.stop() }

        // The first commit is applied at start-up.
        try await eventually("the first commit is applied") { try await lastSync(server)?["commit"]?.stringValue == commit }
        var result = try await server.kubectl("get", "configmap", "settings", "-n", "demo", "-o", "jsonpath={.data.value}")
        #expect(result.output == "one", "\(result.output)")
        result = try await server.kubectl("get", "deployment", "web", "-n", "demo", "-o", "jsonpath={.metadata.labels.capstan\\.io/inventory}")
        #expect(result.output == "default")
        result = try await server.kubectl("get", "all", "-n", "demo")
        #expect(result.status == 0 && result.output.contains("deployment.apps/web"), "\(result.output)")

        // A commit and a webhook: the object appears.
        commit = try git.commit(["deploy/extra.yaml": configMap("extra", "new")], message: "Add extra")
        try await hook(server)
        let took = try await measuredWait("the new ConfigMap exists") {
            try await server.kubectl("get", "configmap", "extra", "-n", "demo").status == 0
        }
        print("webhook to object visible in kubectl: \(took)")

        // A YAML error: nothing changes; status names the commit, file and line.
        let broken = try git.commit(
            ["deploy/extra.yaml": configMap("extra", "changed"), "deploy/broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: [oops\n"],
            message: "Break it")
        try await hook(server)
        try await eventually("the broken commit is reported") { try await lastSync(server)?["commit"]?.stringValue == broken }
        var status = try await statusJSON(server)
        #expect(status[path: ["gitops", "state"]] == "Failed")
        #expect(status[path: ["gitops", "syncedCommit", "id"]]?.stringValue == commit)
        let errors = status[path: ["gitops", "lastSync", "errors"]]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(errors.contains { $0.contains("deploy/broken.yaml:4:") && $0.contains(String(broken.prefix(8))) }, "\(errors)")
        result = try await server.kubectl("get", "configmap", "extra", "-n", "demo", "-o", "jsonpath={.data.value}")
        #expect(result.output == "new")
        let text = try await server.capstan("status")
        #expect(text.output.contains("Failed") && text.output.contains("deploy/broken.yaml:4:"), "\(text.output)")

        // A policy violation is refused the same way: a latest tag, in a repository that
        // enforces the (audited by default) latest-tag policy in its capstan.yaml.
        let violating = try git.commit(
            [
                "deploy/broken.yaml": nil, "deploy/web.yaml": deployment(image: "localhost/web:latest"),
                "capstan.yaml": repositoryConfig + "enforcePolicies: [disallow-latest-tag]\n",
            ], message: "Latest")
        try await hook(server)
        try await eventually("the policy violation is reported") { try await lastSync(server)?["commit"]?.stringValue == violating }
        status = try await statusJSON(server)
        #expect(status[path: ["gitops", "state"]] == "Failed")
        let policyErrors = status[path: ["gitops", "lastSync", "errors"]]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(
            policyErrors.contains { $0.contains("deploy/web.yaml:") && $0.contains("policy disallow-latest-tag") && $0.contains("latest") },
            "\(policyErrors)")

        // The next good commit applies; deleting a file prunes its object; hand-made objects stay.
        result = try await server.kubectl("apply", "-f", try server.write("by-hand.yaml", configMap("by-hand", "made with kubectl")))
        #expect(result.status == 0, "\(result.output)")
        commit = try git.commit(
            ["deploy/web.yaml": deployment(image: "localhost/web:1.1"), "deploy/extra.yaml": nil], message: "Fix and remove extra")
        try await hook(server)
        try await eventually("extra is pruned") { try await server.kubectl("get", "configmap", "extra", "-n", "demo").status != 0 }
        #expect(try await server.kubectl("get", "configmap", "by-hand", "-n", "demo").status == 0)
        result = try await server.kubectl("get", "deployment", "web", "-n", "demo", "-o", "jsonpath={.spec.template.spec.containers[0].image}")
        #expect(result.output == "localhost/web:1.1")

        // kubectl edit: drift is detected and healed, and the heal is in the history.
        result = try await server.kubectl(
            "edit", "deployment", "web", "-n", "demo", environment: ["KUBE_EDITOR": "sed -i s/replicas:\\ 2/replicas:\\ 5/"])
        #expect(result.status == 0, "\(result.output)")
        try await eventually("self-heal restores replicas") {
            try await server.kubectl("get", "deployment", "web", "-n", "demo", "-o", "jsonpath={.spec.replicas}").output == "2"
        }
        let history = try await server.capstan("history")
        #expect(history.output.contains("Healed") && history.output.contains("self-heal"), "\(history.output)")

        // Self-heal off: the drift stays, reported field by field with who made it.
        commit = try git.commit(
            ["capstan.yaml": repositoryConfig.replacingOccurrences(of: "selfHeal: true", with: "selfHeal: false")], message: "No self-heal")
        try await hook(server)
        try await eventually("self-heal is off") { try await statusJSON(server)[path: ["gitops", "drift", "selfHeal"]] == false }
        result = try await server.kubectl(
            "edit", "deployment", "web", "-n", "demo", environment: ["KUBE_EDITOR": "sed -i s/replicas:\\ 2/replicas:\\ 4/"])
        #expect(result.status == 0, "\(result.output)")
        try await eventually("drift is reported") { try await server.capstan("drift").status == 1 }
        let drift = try await server.capstan("drift")
        #expect(
            drift.output.contains("spec.replicas") && drift.output.contains("kubectl-edit") && drift.output.contains("git:  2")
                && drift.output.contains("live: 4"), "\(drift.output)")
        #expect(try await server.kubectl("get", "deployment", "web", "-n", "demo", "-o", "jsonpath={.spec.replicas}").output == "4")

        // A revert by hand: the cluster follows.
        commit = try git.commit(["deploy/feature.yaml": configMap("feature", "on")], message: "Add feature")
        try await hook(server)
        try await eventually("feature exists") { try await server.kubectl("get", "configmap", "feature", "-n", "demo").status == 0 }
        try git.git(["revert", "--no-edit", "HEAD"], in: git.work)
        try git.git(["push", "--quiet", "origin", "main"], in: git.work)
        try await hook(server)
        try await eventually("the reverted feature is pruned") { try await server.kubectl("get", "configmap", "feature", "-n", "demo").status != 0 }

        // capstan rollback: a revert commit lands in the remote and the cluster follows it.
        let rollback = try await server.capstan("rollback", "--timeout", "30")
        #expect(rollback.status == 0, "\(rollback.output)")
        #expect(try await server.kubectl("get", "configmap", "feature", "-n", "demo").status == 0)
        try git.git(["pull", "--quiet", "origin", "main"], in: git.work)
        let log = try git.git(["log", "-1", "--format=%s%n%b"], in: git.work)
        #expect(log.contains("Revert") && log.contains("This reverts commit"), "\(log)")

        // History and inventory are kept in the store, where kubectl sees them.
        let records = try await server.kubectl("get", "configmaps", "-n", "capstan-system", "-l", "capstan.io/gitops-record", "-o", "name")
        #expect(
            records.output.contains("configmap/gitops-inventory-0") && records.output.contains("configmap/gitops-sync-00000001"), "\(records.output)")

        let finalHistory = try await server.http("GET", "/history")
        #expect(finalHistory.status == 200 && finalHistory.body.contains("\"result\""))

        // capstan diff: an uncommitted change in the working tree, checked by the server.
        try git.git(["pull", "--quiet", "origin", "main"], in: git.work)
        // With self-heal off, the hand-made drift is what applying the tree would undo.
        let clean = try await server.capstan("diff", git.work.path)
        #expect(
            clean.status == 1 && clean.output.contains("update Deployment demo/web") && clean.output.contains("spec.replicas: 4 → 2"),
            "\(clean.output)")
        try configMap("settings", "local edit").write(to: git.work.appending(path: "deploy/settings.yaml"), atomically: true, encoding: .utf8)
        let diff = try await server.capstan("diff", git.work.path)
        #expect(diff.status == 1 && diff.output.contains("update ConfigMap demo/settings") && diff.output.contains("data.value"), "\(diff.output)")
        try "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [x]}\n".write(
            to: git.work.appending(path: "deploy/bad.yaml"), atomically: true, encoding: .utf8)
        let badDiff = try await server.capstan("diff", git.work.path)
        #expect(badDiff.status == 2 && badDiff.output.contains("deploy/bad.yaml:3:"), "\(badDiff.output)")
    }

    @Test func hostileRequestsGetClearErrorsAndChangeNothing() async throws {
        let git = try GitFixture()
        let commit = try git.commit(
            [
                "capstan.yaml": repositoryConfig, "deploy/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n",
                "deploy/settings.yaml": configMap("settings", "one"),
            ], message: "Start")
        let server = try await RunningServer(arguments: ["--repo", git.remote.path, "--default-policies", projectPolicies])
        defer { server.stop() }
        try await eventually("the first commit is applied") { try await lastSync(server)?["commit"]?.stringValue == commit }

        // Webhooks without the secret, with a wrong one, with broken JSON.
        var response = try await server.http("POST", "/hooks/git", body: "{}")
        #expect(response.status == 401 && response.body.contains("no webhook signature or token"), "\(response.body)")
        response = try await server.http("POST", "/hooks/git", body: "{}", headers: ["X-Hub-Signature-256": "sha256=0000"])
        #expect(response.status == 401 && response.body.contains("does not match"), "\(response.body)")
        let secret = try String(contentsOfFile: server.dataDirectory + "/webhook-secret", encoding: .utf8)
        // The secret in the URL (where access logs keep it) is refused, even the right one.
        response = try await server.http("POST", "/hooks/git?token=\(secret)", body: "{}")
        #expect(response.status == 401 && response.body.contains("X-Capstan-Token header"), "\(response.body)")
        response = try await server.http("POST", "/hooks/git", body: "{\"ref\": [", headers: ["X-Capstan-Token": secret])
        #expect(response.status == 400 && response.body.contains("not valid JSON"), "\(response.body)")
        response = try await server.http("POST", "/hooks/git", body: #"{"ref":"refs/heads/other"}"#, headers: ["X-Capstan-Token": secret])
        #expect(response.status == 202 && response.body.contains("ignored"), "\(response.body)")

        // Rollback of a commit that does not exist; diff with a malformed body.
        response = try await server.http("POST", "/rollback", body: #"{"commit":"0123456789012345678901234567890123456789"}"#)
        #expect(response.status == 422, "\(response.body)")
        response = try await server.http("POST", "/diff", body: "[1, 2")
        #expect(response.status == 400 && response.body.contains("files"), "\(response.body)")
        let history = try await server.http("GET", "/history")
        #expect(history.body.components(separatedBy: "\"sequence\"").count == 2, "one sync only: \(history.body)")
        let settings = try await server.kubectl("get", "configmap", "settings", "-n", "demo", "-o", "jsonpath={.data.value}")
        #expect(settings.output == "one", "\(settings.output)")
    }
}
