import CapstanCore
import CapstanTestSupport
import Foundation
import Logging
import Synchronization
import Testing

@testable import CapstanGitOps

private func configMap(_ name: String, _ value: String, namespace: String = "demo", extra: String = "") -> String {
    """
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: \(name)
      namespace: \(namespace)\(extra)
    data:
      value: "\(value)"

    """
}

private let namespace = """
    apiVersion: v1
    kind: Namespace
    metadata:
      name: demo

    """

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

private let latestTagPolicy = GitOpsConfiguration.PolicyFile(
    path: "disallow-latest-tag.yaml",
    contents: Array(
        """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata:
          name: disallow-latest-tag
        spec:
          validationFailureAction: Enforce
          rules:
          - name: require-image-tag
            match:
              any:
              - resources:
                  kinds: [Pod, Deployment]
            validate:
              message: "An image tag other than latest is required."
              pattern:
                spec:
                  =(template):
                    spec:
                      containers:
                      - image: "!*:latest"
        """.utf8))

private func engine(_ git: GitFixture, _ cluster: FakeCluster) -> GitOpsEngine {
    GitOpsEngine(
        configuration: GitOpsConfiguration(remote: git.remote.path, directory: git.mirrorDirectory, defaultPolicies: [latestTagPolicy]),
        cluster: cluster, logger: Logger(label: "test"))
}

private func id(_ kind: String, _ name: String, namespace: String = "demo", group: String = "") -> ObjectIdentity {
    ObjectIdentity(group: group, kind: kind, namespace: namespace, name: name)
}

@Suite struct GitOpsEngineTests {
    @Test func appliesACommitInOrderAndOnlyWhatChangesAfterwards() async throws {
        let git = try GitFixture()
        let cluster = FakeCluster()
        let engine = engine(git, cluster)
        try git.commit(
            ["deploy/web.yaml": deployment(image: "web:1.0"), "deploy/ns.yaml": namespace, "deploy/cm.yaml": configMap("settings", "a")],
            message: "first")

        let first = try #require(await engine.sync(trigger: "test"))
        #expect(first.result != .failed, "\(first.errors)")
        #expect(first.created == 3 && first.unchanged == 0)
        // Namespaces first, then configuration, then workloads.
        let order = cluster.applied.filter { $0.namespace != "capstan-system" && $0.name != "capstan-system" }.map(\.kind)
        #expect(order == ["Namespace", "ConfigMap", "Deployment"])
        let web = try #require(cluster.objects[id("Deployment", "web", group: "apps")])
        #expect(web[path: ["metadata", "labels", "capstan.io/inventory"]] == "default")
        #expect(web[path: ["metadata", "annotations", "capstan.io/source"]] == "deploy/web.yaml")

        // Nothing new: a poll is a no-op.
        #expect(await engine.sync(trigger: "poll") == nil)

        // One file changes: one object is applied, the rest are left alone.
        let before = cluster.applied.count
        try git.commit(["deploy/cm.yaml": configMap("settings", "b")], message: "second")
        let second = try #require(await engine.sync(trigger: "test"))
        #expect(second.updated == 1 && second.unchanged == 2 && second.created == 0, "\(second)")
        let newlyApplied = cluster.applied.dropFirst(before).filter { $0.namespace != "capstan-system" }
        #expect(newlyApplied == [id("ConfigMap", "settings")])

        // The history and the inventory are in the cluster.
        let inventory = try await Inventory.load(from: cluster)
        #expect(inventory.entries.count == 3 && inventory.commit == second.commit)
        #expect(try wire(await engine.historyReport())["items"]?.arrayValue?.count == 2)
    }

    @Test func aCommitWithAnyErrorChangesNothing() async throws {
        let git = try GitFixture()
        let cluster = FakeCluster()
        let engine = engine(git, cluster)
        let good = try git.commit(["cm.yaml": configMap("settings", "a"), "ns.yaml": namespace], message: "good")
        _ = await engine.sync(trigger: "test")
        let objects = cluster.gitObjects

        // Broken YAML in one file, a valid change in another.
        try git.commit(
            ["cm.yaml": configMap("settings", "changed"), "broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: [oops\n"], message: "broken")
        let broken = try #require(await engine.sync(trigger: "test"))
        #expect(broken.result == .failed)
        #expect(broken.errors.contains { $0.contains("broken.yaml:4:") }, "\(broken.errors)")
        #expect(cluster.objects[id("ConfigMap", "settings")]?[path: ["data", "value"]] == "a")
        #expect(cluster.gitObjects == objects)
        let status = try wire(await engine.statusReport())
        #expect(status["state"] == "Failed")
        #expect(status[path: ["syncedCommit", "id"]]?.stringValue == good)

        // A policy violation is refused the same way, naming file and line.
        try git.commit(["broken.yaml": nil, "web.yaml": deployment(image: "web:latest")], message: "latest tag")
        let violating = try #require(await engine.sync(trigger: "test"))
        #expect(violating.result == .failed)
        #expect(violating.errors.contains { $0.contains("web.yaml:") && $0.contains("latest") }, "\(violating.errors)")
        #expect(cluster.objects[id("Deployment", "web", group: "apps")] == nil)

        // An object the API rejects (dry run) stops the commit before any write.
        cluster.state.withLock { $0.rejecting["web"] = "spec.replicas: Invalid value" }
        try git.commit(["web.yaml": deployment(image: "web:2"), "cm.yaml": configMap("settings", "c")], message: "rejected")
        let rejected = try #require(await engine.sync(trigger: "test"))
        #expect(
            rejected.result == .failed && rejected.errors.contains { $0.contains("web.yaml:1: Deployment demo/web: spec.replicas") },
            "\(rejected.errors)")
        #expect(cluster.objects[id("ConfigMap", "settings")]?[path: ["data", "value"]] == "a")

        // The next good commit applies normally.
        cluster.state.withLock { $0.rejecting = [:] }
        try git.commit(["web.yaml": deployment(image: "web:3")], message: "fixed")
        let fixed = try #require(await engine.sync(trigger: "test"))
        #expect(fixed.result != .failed, "\(fixed.errors)")
        #expect(cluster.objects[id("ConfigMap", "settings")]?[path: ["data", "value"]] == "c")
    }

    @Test func prunesOnlyWhatItOwnsAndRefusesToPruneEverything() async throws {
        let git = try GitFixture()
        let cluster = FakeCluster()
        let engine = engine(git, cluster)
        try git.commit(
            [
                "a.yaml": configMap("a", "1"), "b.yaml": configMap("b", "1"),
                "keep.yaml": configMap("keep", "1", extra: "\n  annotations: {capstan.io/prune: disabled}"),
            ], message: "three")
        _ = await engine.sync(trigger: "test")
        // Someone creates an object by hand; it is never Capstan's to delete.
        cluster.put(try YAMLLoader().load(Array(configMap("by-hand", "x").utf8), file: "x")[0].value)

        try git.commit(["b.yaml": nil, "keep.yaml": nil], message: "remove two")
        let removal = try #require(await engine.sync(trigger: "test"))
        #expect(removal.pruned == 1, "\(removal)")
        #expect(cluster.deleted == [id("ConfigMap", "b")])
        #expect(cluster.objects[id("ConfigMap", "keep")] != nil && cluster.objects[id("ConfigMap", "by-hand")] != nil)
        #expect(removal.warnings.contains { $0.contains("keep") && $0.contains("prune: disabled") })

        // Removing every file is refused unless capstan.yaml allows it.
        try git.commit(["a.yaml": nil, "README.md": "empty now"], message: "remove all")
        let all = try #require(await engine.sync(trigger: "test"))
        #expect(all.result == .failed && all.errors.contains { $0.contains("prune all 1 objects") }, "\(all.errors)")
        #expect(cluster.objects[id("ConfigMap", "a")] != nil)
        try git.commit(["capstan.yaml": "apiVersion: capstan.io/v1alpha1\nkind: Repository\nallowPruneAll: true\n"], message: "allow")
        let allowed = try #require(await engine.sync(trigger: "test"))
        #expect(allowed.pruned == 1 && cluster.objects[id("ConfigMap", "a")] == nil, "\(allowed)")
    }

    @Test func reportsDriftFieldByFieldAndHealsIt() async throws {
        let git = try GitFixture()
        let cluster = FakeCluster()
        let engine = engine(git, cluster)
        try git.commit(["web.yaml": deployment(image: "web:1.0"), "ns.yaml": namespace], message: "web")
        _ = await engine.sync(trigger: "test")
        let web = id("Deployment", "web", group: "apps")

        // Server-set fields are not drift.
        #expect(await engine.checkDrift() == 0)
        #expect(try wire(await engine.driftReport())["driftedObjects"] == 0)

        cluster.edit(web) { object in
            object[path: ["spec", "replicas"]] = 5
            object[path: ["metadata", "managedFields"]] = [
                [
                    "manager": "capstan-gitops", "operation": "Apply", "apiVersion": "apps/v1", "time": "2026-01-01T00:00:00Z",
                    "fieldsType": "FieldsV1", "fieldsV1": ["f:spec": ["f:template": [:]]],
                ],
                [
                    "manager": "kubectl-edit", "operation": "Update", "apiVersion": "apps/v1", "time": "2026-01-02T00:00:00Z",
                    "fieldsType": "FieldsV1", "fieldsV1": ["f:spec": ["f:replicas": [:]]],
                ],
            ]
        }
        #expect(await engine.checkDrift() == 1)
        #expect(cluster.objects[web]?[path: ["spec", "replicas"]] == 2)
        let heals = try wire(await engine.driftReport())["recentHeals"]?.arrayValue ?? []
        let difference = heals.first?["differences"]?[0]
        #expect(
            difference?["path"] == "spec.replicas" && difference?["live"] == 5 && difference?["desired"] == 2
                && difference?["changedBy"] == "kubectl-edit", "\(heals)")
        let history = try wire(await engine.historyReport())["items"]?.arrayValue ?? []
        #expect(history.last?["result"] == "Healed")

        // With self-heal off, drift stays and is reported.
        try git.commit(["capstan.yaml": "apiVersion: capstan.io/v1alpha1\nkind: Repository\nselfHeal: false\n"], message: "no heal")
        _ = await engine.sync(trigger: "test")
        cluster.edit(web) { $0[path: ["spec", "template", "spec", "containers"]] = [["name": "web", "image": "web:hotfix"]] }
        #expect(await engine.checkDrift() == 0)
        let report = try wire(await engine.driftReport())
        #expect(report["driftedObjects"] == 1)
        let paths = report["objects"]?[0]?["differences"]?.arrayValue?.compactMap { $0["path"]?.stringValue } ?? []
        #expect(paths.contains("spec.template.spec.containers[name=web].image"), "\(paths)")
        #expect(try wire(await engine.statusReport())["state"] == "OutOfSync")

        // A deleted object is drift too.
        cluster.state.withLock { $0.objects[id("Namespace", "demo", namespace: "")] = nil }
        _ = await engine.checkDrift()
        #expect(try wire(await engine.driftReport())["objects"]?.arrayValue?.contains { $0["missing"] == true } == true)
    }

    @Test func ignoreRulesLeaveFieldsAlone() async throws {
        let git = try GitFixture()
        let cluster = FakeCluster()
        let engine = engine(git, cluster)
        try git.commit(
            [
                "web.yaml": deployment(image: "web:1.0"),
                "capstan.yaml":
                    "apiVersion: capstan.io/v1alpha1\nkind: Repository\nignoreDifferences:\n- kind: Deployment\n  jsonPointers: [/spec/replicas]\n",
            ], message: "web")
        _ = await engine.sync(trigger: "test")
        cluster.edit(id("Deployment", "web", group: "apps")) { $0[path: ["spec", "replicas"]] = 7 }
        #expect(await engine.checkDrift() == 0)
        #expect(try wire(await engine.driftReport())["driftedObjects"] == 0)
    }

    @Test func rollbackPushesARevertCommitThatTheNextSyncApplies() async throws {
        let git = try GitFixture()
        let cluster = FakeCluster()
        let engine = engine(git, cluster)
        try git.commit(["a.yaml": configMap("a", "1")], message: "a")
        _ = await engine.sync(trigger: "test")
        let added = try git.commit(["b.yaml": configMap("b", "1")], message: "add b")
        _ = await engine.sync(trigger: "test")
        #expect(cluster.objects[id("ConfigMap", "b")] != nil)

        let revert = try await engine.rollback(nil, reason: "testing")
        #expect(revert.message.contains("This reverts commit \(added)"))
        let record = try #require(await engine.sync(trigger: "rollback"))
        #expect(record.commit == revert.id && record.pruned == 1)
        #expect(cluster.objects[id("ConfigMap", "b")] == nil)
        // The revert is in the remote, where everyone sees it.
        try git.git(["pull", "--quiet", "origin", "main"], in: git.work)
        #expect(!FileManager.default.fileExists(atPath: git.work.appending(path: "b.yaml").path))
    }
}

@Suite struct WebhookTests {
    let hook = Webhook(secret: Array("s3cret".utf8), branch: "main")

    @Test func hmacMatchesRFC4231() {
        #expect(
            HMAC.hex(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func acceptsSignedPushesToTheBranchOnly() {
        let body = Array(#"{"ref":"refs/heads/main","after":"0123456789abcdef"}"#.utf8)
        let signature = "sha256=" + HMAC.hex(key: Array("s3cret".utf8), message: body)
        #expect(hook.handle(headers: ["X-Hub-Signature-256": signature], query: [:], body: body) == .sync("github push 01234567"))
        let other = Array(#"{"ref":"refs/heads/feature"}"#.utf8)
        let otherSignature = "sha256=" + HMAC.hex(key: Array("s3cret".utf8), message: other)
        #expect(
            hook.handle(headers: ["x-hub-signature-256": otherSignature], query: [:], body: other)
                == .ignored("push to refs/heads/feature, not refs/heads/main"))
        #expect(
            hook.handle(headers: ["X-Gitea-Signature": HMAC.hex(key: Array("s3cret".utf8), message: body)], query: [:], body: body)
                == .sync("gitea push 01234567"))
        #expect(hook.handle(headers: ["X-Gitlab-Token": "s3cret"], query: [:], body: body) == .sync("gitlab push 01234567"))
        #expect(hook.handle(headers: ["X-Capstan-Token": "s3cret"], query: [:], body: []) == .sync("webhook hook"))
    }

    @Test func aSecretInTheURLIsRefusedEvenWhenItIsRight() {
        // URLs end up in access logs; the secret belongs in a header.
        guard case .unauthorized(let reason) = hook.handle(headers: [:], query: ["token": "s3cret"], body: []) else {
            Issue.record("?token= accepted")
            return
        }
        #expect(reason.contains("X-Capstan-Token header"), "\(reason)")
        if case .unauthorized = hook.handle(headers: ["X-Capstan-Token": "s3cret"], query: ["token": "s3cret"], body: []) {
        } else {
            Issue.record("a hook with the secret in its URL was accepted because a header also held it")
        }
    }

    @Test func refusesWrongOrMissingSecretsAndBrokenBodies() {
        let body = Array(#"{"ref":"refs/heads/main"}"#.utf8)
        if case .unauthorized = hook.handle(headers: ["X-Hub-Signature-256": "sha256=00"], query: [:], body: body) {
        } else {
            Issue.record("bad signature accepted")
        }
        if case .unauthorized = hook.handle(headers: ["X-Gitlab-Token": "nope"], query: [:], body: body) {
        } else {
            Issue.record("bad token accepted")
        }
        if case .unauthorized = hook.handle(headers: [:], query: [:], body: body) {} else { Issue.record("unsigned hook accepted") }
        let broken = Array("{\"ref\": ".utf8)
        if case .badRequest = hook.handle(headers: ["X-Capstan-Token": "s3cret"], query: [:], body: broken) {
        } else {
            Issue.record("broken JSON accepted")
        }
    }
}

@Suite struct DriftDetectorTests {
    @Test func comparesOnlyFieldsGitSets() throws {
        let desired: JSONValue = [
            "apiVersion": "v1", "kind": "Service", "metadata": ["name": "web", "labels": ["app": "web"]],
            "spec": ["selector": ["app": "web"], "ports": [["port": 80, "protocol": "TCP"]]],
        ]
        var live = desired
        live[path: ["metadata", "uid"]] = "1234"
        live[path: ["metadata", "labels", "extra"]] = "added-by-someone"
        live[path: ["spec", "clusterIP"]] = "10.0.0.1"
        live[path: ["spec", "ports"]] = [["port": 80, "protocol": "TCP", "targetPort": 80]]
        live[path: ["status"]] = ["loadBalancer": [:]]
        #expect(DriftDetector().differences(desired: desired, live: live).isEmpty)

        live[path: ["spec", "selector", "app"]] = "other"
        let found = DriftDetector().differences(desired: desired, live: live)
        #expect(found.map(\.path) == ["spec.selector.app"] && found.first?.pointer == "/spec/selector/app")
        #expect(DriftDetector(ignoredPointers: ["/spec/selector"]).differences(desired: desired, live: live).isEmpty)
        #expect(DriftDetector().differences(desired: desired, live: nil).first?.path == "")
    }
}

@Suite struct AutoRollbackTests {
    final class Clock: Sendable {
        let current = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        func advance(_ seconds: Double) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
        var now: Date { current.withLock { $0 } }
    }

    /// Through a remote (pushed) and a local working repository (committed in place, as `capstan up` follows one).
    @Test(arguments: [false, true])
    func aRolloutThatStaysUnhealthyIsRevertedOnceWithTheReason(followingAWorkingRepository: Bool) async throws {
        let git = try GitFixture()
        let cluster = FakeCluster()
        let clock = Clock()
        let remote = followingAWorkingRepository ? git.work.path : git.remote.path
        let engine = GitOpsEngine(
            configuration: GitOpsConfiguration(remote: remote, directory: git.mirrorDirectory), cluster: cluster,
            logger: Logger(label: "test"), now: { clock.now })
        let settings = """
            apiVersion: capstan.io/v1alpha1
            kind: Repository
            healthTimeout: 30s
            autoRollback: {enabled: true, after: 60s}

            """
        try git.commit(["capstan.yaml": settings, "ns.yaml": namespace], message: "base")
        _ = await engine.sync(trigger: "test")
        let bad = try git.commit(["web.yaml": deployment(image: "web:broken")], message: "Ship web")
        let applied = try #require(await engine.sync(trigger: "test"))
        #expect(applied.result == .progressing, "the fake cluster never rolls the Deployment out")

        // Not yet: the deadline has not passed.
        clock.advance(20)
        await engine.evaluateHealth()
        #expect(await engine.autoRollbackIfDegraded() == false)

        clock.advance(50)
        await engine.evaluateHealth()
        #expect(try wire(await engine.statusReport())["state"] == "Degraded")
        #expect(await engine.autoRollbackIfDegraded())
        #expect(await engine.autoRollbackIfDegraded() == false, "a commit is reverted once")

        let revert = try #require(await engine.sync(trigger: "auto-rollback"))
        #expect(revert.pruned == 1 && cluster.objects[id("Deployment", "web", group: "apps")] == nil)
        if followingAWorkingRepository {
            #expect(
                try git.git(["status", "--porcelain"], in: git.work) == ""
                    && !FileManager.default.fileExists(atPath: git.work.appending(path: "web.yaml").path))
        } else {
            try git.git(["pull", "--quiet", "origin", "main"], in: git.work)
        }
        let message = try git.git(["log", "-1", "--format=%B"], in: git.work)
        #expect(
            message.contains("This reverts commit \(bad)") && message.contains("rolled this back automatically")
                && message.contains("Deployment demo/web"), "\(message)")
    }
}

@Suite struct InventoryTests {
    @Test func largeInventoriesSpanSeveralConfigMapsAndShrinkCleanly() async throws {
        let cluster = FakeCluster()
        let entries = (0..<4500).map { index in
            InventoryEntry(apiVersion: "v1", identity: id("ConfigMap", "cm-\(index)"), hash: "h\(index)", file: "deploy/f\(index / 100).yaml")
        }
        let inventory = Inventory(commit: "abc", entries: entries)
        try await inventory.save(to: cluster, previousChunkCount: 0)
        #expect(cluster.gitObjects.isEmpty)
        #expect(cluster.objects.keys.filter { $0.name.hasPrefix("gitops-inventory-") }.count == 3)
        let loaded = try await Inventory.load(from: cluster)
        #expect(loaded == inventory)

        let smaller = Inventory(commit: "def", entries: Array(entries.prefix(10)))
        try await smaller.save(to: cluster, previousChunkCount: inventory.chunkCount)
        #expect(cluster.objects.keys.filter { $0.name.hasPrefix("gitops-inventory-") }.count == 1)
        #expect(try await Inventory.load(from: cluster) == smaller)
    }
}

@Suite struct PolicyCacheTests {
    @Test func aNewPolicyIsCheckedAgainstObjectsThatDidNotChange() async throws {
        let git = try GitFixture()
        let cluster = FakeCluster()
        let engine = engine(git, cluster)
        try git.commit(["ns.yaml": namespace, "cm.yaml": configMap("settings", "a")], message: "base")
        #expect(await engine.sync(trigger: "test")?.result != .failed)
        // Touch another file only: the unchanged ConfigMap need not be checked again, and passes.
        try git.commit(["other.yaml": configMap("other", "b")], message: "other")
        #expect(await engine.sync(trigger: "test")?.result != .failed)
        // A new repository policy applies to every object, changed or not.
        let policy = """
            apiVersion: kyverno.io/v1
            kind: ClusterPolicy
            metadata: {name: require-team}
            spec:
              validationFailureAction: Enforce
              rules:
              - name: team-label
                match: {any: [{resources: {kinds: [ConfigMap]}}]}
                validate:
                  message: "ConfigMaps need a team label."
                  pattern: {metadata: {labels: {team: "?*"}}}
            """
        try git.commit(["policies/require-team.yaml": policy], message: "policy")
        let record = try #require(await engine.sync(trigger: "test"))
        #expect(record.result == .failed, "\(record)")
        #expect(record.errors.contains { $0.contains("cm.yaml:") && $0.contains("team label") }, "\(record.errors)")
        #expect(record.errors.contains { $0.contains("other.yaml:") }, "\(record.errors)")
    }
}

/// Security defaults refuse commits, best-practice defaults warn, and a repository
/// opts into more in its own `policies/` or in `capstan.yaml`.
@Suite struct PolicyOptInTests {
    static func policy(_ name: String, _ action: String, message: String, pattern: String) -> String {
        """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata: {name: \(name)}
        spec:
          validationFailureAction: \(action)
          rules:
          - name: check
            match: {any: [{resources: {kinds: [Pod]}}]}
            validate:
              message: "\(message)"
              pattern: \(pattern)
        """
    }

    /// What the project's defaults look like: one enforced security policy, one audited best practice.
    static let defaults = [
        GitOpsConfiguration.PolicyFile(
            path: "no-host-network.yaml",
            contents: Array(policy("no-host-network", "Enforce", message: "no host network", pattern: "{spec: {=(hostNetwork): 'false'}}").utf8)),
        GitOpsConfiguration.PolicyFile(
            path: "require-limits.yaml",
            contents: Array(
                policy("require-limits", "Audit", message: "limits please", pattern: "{spec: {containers: [{resources: {limits: {memory: '?*'}}}]}}")
                    .utf8)),
    ]

    static func engine(_ git: GitFixture, _ cluster: FakeCluster) -> GitOpsEngine {
        GitOpsEngine(
            configuration: GitOpsConfiguration(remote: git.remote.path, directory: git.mirrorDirectory, defaultPolicies: defaults),
            cluster: cluster, logger: Logger(label: "test"))
    }

    /// A Deployment without limits: breaks the audited default only.
    static let unlimited = deployment(image: "web:1.0").replacingOccurrences(of: "limits: {cpu: 100m, memory: 32Mi}", with: "limits: {cpu: 100m}")

    @Test func aBestPracticeViolationSyncsWithAWarning() async throws {
        let git = try GitFixture()
        let cluster = FakeCluster()
        try git.commit(["ns.yaml": namespace, "web.yaml": Self.unlimited], message: "existing repository")
        let record = try #require(await Self.engine(git, cluster).sync(trigger: "test"))
        #expect(record.result != .failed, "\(record.errors)")
        #expect(record.warnings.filter { $0.contains("policy require-limits") }.count == 1, "\(record.warnings)")
        #expect(cluster.objects[id("Deployment", "web", group: "apps")] != nil)
    }

    @Test func capstanYAMLEnforcesANamedDefault() async throws {
        let git = try GitFixture()
        let cluster = FakeCluster()
        try git.commit(
            ["capstan.yaml": "enforcePolicies: [require-limits]\n", "ns.yaml": namespace, "web.yaml": Self.unlimited], message: "strict")
        let record = try #require(await Self.engine(git, cluster).sync(trigger: "test"))
        #expect(record.result == .failed)
        #expect(
            record.errors.contains { $0.contains("web.yaml:") && $0.contains("policy require-limits") && $0.contains("limits please") },
            "\(record.errors)")
        #expect(!record.warnings.contains { $0.contains("require-limits") }, "reported once, as an error: \(record.warnings)")
        #expect(cluster.objects[id("Deployment", "web", group: "apps")] == nil)
    }

    @Test func aRepositoryCopyOfAnAuditedDefaultReplacesIt() async throws {
        let git = try GitFixture()
        let cluster = FakeCluster()
        let copy = Self.policy(
            "require-limits", "Enforce", message: "our limits", pattern: "{spec: {containers: [{resources: {limits: {memory: '?*'}}}]}}")
        try git.commit(["policies/require-limits.yaml": copy, "ns.yaml": namespace, "web.yaml": Self.unlimited], message: "own copy")
        let record = try #require(await Self.engine(git, cluster).sync(trigger: "test"))
        #expect(record.result == .failed)
        #expect(record.errors.filter { $0.contains("policy require-limits") }.count == 1, "\(record.errors)")
        #expect(record.errors.contains { $0.contains("our limits") }, "\(record.errors)")
        #expect(!record.warnings.contains { $0.contains("require-limits") }, "the default is replaced, not reported too: \(record.warnings)")
    }

    @Test func anEnforcedDefaultCannotBeReplacedOrMisnamed() async throws {
        let git = try GitFixture()
        let cluster = FakeCluster()
        let weaker = Self.policy("no-host-network", "Audit", message: "fine", pattern: "{spec: {}}")
        try git.commit(["policies/no-host-network.yaml": weaker, "ns.yaml": namespace, "cm.yaml": configMap("settings", "a")], message: "weaker")
        let engine = Self.engine(git, cluster)
        let replaced = try #require(await engine.sync(trigger: "test"))
        #expect(replaced.result == .failed)
        #expect(
            replaced.errors.contains {
                $0.contains(
                    "policies/no-host-network.yaml:1:1: ClusterPolicy no-host-network: the default policy no-host-network is enforced and cannot be replaced"
                )
            }, "\(replaced.errors)")
        #expect(cluster.objects[id("ConfigMap", "settings")] == nil)

        try git.commit(["policies/no-host-network.yaml": nil, "capstan.yaml": "enforcePolicies: [require-limit]\n"], message: "typo")
        let misnamed = try #require(await engine.sync(trigger: "test"))
        #expect(misnamed.result == .failed)
        #expect(
            misnamed.errors.contains {
                $0.contains("capstan.yaml: enforcePolicies: no policy is named \"require-limit\" (policies: no-host-network, require-limits)")
            }, "\(misnamed.errors)")
    }
}
