import CapstanAPIServer
import CapstanCore
import CapstanTestSupport
import Foundation
import OrderedCollections
import Synchronization
import Testing

@testable import CapstanGitOps

/// Each sync step alone, on a hand-made run: what it leaves for the next
/// step, and how it stops the sync (stalled: wait for a new commit;
/// retryable: try the same commit again).
@Suite struct SyncStepTests {
    static let commit = GitCommit(
        id: String(repeating: "a", count: 40), authorName: "T", authorEmail: "t@example.com", message: "test", time: 0, parents: [])

    static func run(previous: Inventory = Inventory()) -> SyncRun {
        SyncRun(
            commit: commit,
            record: SyncRecord(
                sequence: 1, commit: commit.id, author: "T", message: "test", startedAt: Date(timeIntervalSince1970: 0), trigger: "test",
                result: .failed),
            previous: previous, caches: SyncCaches())
    }

    static func files(_ files: [String: String]) -> @Sendable (GitCommit) async throws -> RenderInput {
        { _ in
            let tree = files.keys.sorted().map { GitTreeFile(path: $0, blobID: ContentHash.sha256(Array(files[$0]!.utf8))) }
            return RenderInput(files: tree) { file in Array(files[file.path]!.utf8) }
        }
    }

    static func configMap(_ name: String, namespace: String = "default", annotations: String = "") -> String {
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \(name)\n  namespace: \(namespace)\(annotations)\ndata:\n  a: b\n"
    }

    /// Render, policy and plan a tree into a run ready for the writing steps.
    static func planned(_ files: [String: String], previous: Inventory = Inventory()) async throws -> SyncRun {
        var run = run(previous: previous)
        try await RenderStep(read: Self.files(files), renderer: ManifestRenderer()).run(&run)
        try await PlanStep(inventoryName: "default", digestKey: .random()).run(&run)
        return run
    }

    static func expectError(_ kind: SyncError.Kind, _ step: some SyncStep, _ run: inout SyncRun, containing text: String) async {
        do {
            try await step.run(&run)
            Issue.record("\(step.name) did not stop the sync")
        } catch {
            #expect(error.kind == kind)
            #expect(error.messages.contains { $0.contains(text) }, "\(error.messages)")
        }
    }

    @Test func renderStallsOnABrokenManifestWithItsFileAndLine() async {
        var run = Self.run()
        let step = RenderStep(read: Self.files(["bad.yaml": "kind: [\n"]), renderer: ManifestRenderer())
        await Self.expectError(.stalled, step, &run, containing: "commit aaaaaaaa: bad.yaml:")
        #expect(run.rendered == nil)
    }

    @Test func renderRetriesWhenTheFilesCannotBeRead() async {
        struct Unreadable: Error {}
        var run = Self.run()
        let step = RenderStep(read: { _ in throw Unreadable() }, renderer: ManifestRenderer())
        await Self.expectError(.retryable, step, &run, containing: "cannot read its files")
    }

    /// A repository of Certificates for a cert-manager installed outside it (by hand, or by another tool).
    @Test func kindsTheClusterServesRenderEvenWhenNoCommitDefinesThem() async throws {
        let certificate = "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: web\nspec:\n  secretName: web-tls\n"
        var run = Self.run()
        let unknown = RenderStep(read: Self.files(["certificate.yaml": certificate]), renderer: ManifestRenderer())
        await Self.expectError(.stalled, unknown, &run, containing: #"no matches for kind "Certificate" in version "cert-manager.io/v1""#)

        let served =
            BuiltinKinds.all + [KindInfo(group: "cert-manager.io", version: "v1", kind: "Certificate", resource: "certificates", namespaced: true)]
        let step = RenderStep(read: Self.files(["certificate.yaml": certificate]), renderer: ManifestRenderer(), servedKinds: { served })
        run = Self.run()
        try await step.run(&run)
        // Namespaced, so it lands in `default` as kubectl would send it.
        #expect(run.rendered?.manifests.map { $0.object.metadata.namespace } == ["default"])

        struct Unreachable: Error {}
        run = Self.run()
        let failing = RenderStep(
            read: Self.files(["certificate.yaml": certificate]), renderer: ManifestRenderer(), servedKinds: { throw Unreachable() })
        await Self.expectError(.retryable, failing, &run, containing: "cannot read the kinds the cluster serves")
    }

    @Test func policyStallsOnAnEnforcedViolationAndRemembersPasses() async throws {
        let policy = GitOpsConfiguration.PolicyFile(
            path: "no-bad.yaml",
            contents: Array(
                """
                apiVersion: kyverno.io/v1
                kind: ClusterPolicy
                metadata: {name: no-bad}
                spec:
                  validationFailureAction: Enforce
                  rules:
                  - name: no-bad
                    match: {any: [{resources: {kinds: [ConfigMap]}}]}
                    validate:
                      message: "no bad names"
                      pattern: {metadata: {name: "!bad"}}
                """.utf8))
        var bad = try await Self.planned(["cm.yaml": Self.configMap("bad")])
        await Self.expectError(.stalled, PolicyStep(gate: PolicyGate(defaultPolicies: [policy])), &bad, containing: "no bad names")
        #expect(bad.caches.policy.passedUnits.isEmpty)
        var good = try await Self.planned(["cm.yaml": Self.configMap("good")])
        try await PolicyStep(gate: PolicyGate(defaultPolicies: [policy])).run(&good)
        #expect(good.caches.policy.passedUnits.count == 1)
    }

    @Test func planStallsWhenACommitWouldPruneEverything() async throws {
        var previous = Inventory()
        for name in ["a", "b"] {
            let identity = ObjectIdentity(group: "", kind: "ConfigMap", namespace: "default", name: name)
            previous.entries[identity] = InventoryEntry(apiVersion: "v1", identity: identity, hash: "x", file: "\(name).yaml")
        }
        var run = Self.run(previous: previous)
        try await RenderStep(read: Self.files(["capstan.yaml": "apiVersion: capstan.io/v1alpha1\nkind: Repository\n"]), renderer: ManifestRenderer())
            .run(&run)
        await Self.expectError(.stalled, PlanStep(inventoryName: "default", digestKey: .random()), &run, containing: "would prune all 2 objects")
    }

    @Test func dryRunRefusalsAreRetriedAndWriteNothing() async throws {
        let cluster = FakeCluster()
        cluster.state.withLock { $0.rejecting["settings"] = "data is invalid" }
        var run = try await Self.planned(["cm.yaml": Self.configMap("settings")])
        await Self.expectError(.retryable, DryRunStep(cluster: cluster), &run, containing: "cm.yaml:1: ConfigMap default/settings: data is invalid")
        #expect(cluster.objects.isEmpty && run.next == nil)
    }

    @Test func aFailedApplyIsRetriedAndTheInventoryKeepsWhatWasApplied() async throws {
        let cluster = FakeCluster()
        cluster.state.withLock { $0.rejecting["second"] = "refused" }
        var run = try await Self.planned(["a.yaml": Self.configMap("first"), "b.yaml": Self.configMap("second")])
        let step = ApplyStep(cluster: cluster, health: HealthCheck(cluster: cluster, clock: ContinuousClock()))
        await Self.expectError(.retryable, step, &run, containing: "refused")
        #expect(run.record.created == 1)
        #expect(run.next?.entries.keys.map(\.name) == ["first"])
    }

    @Test func pruneDeletesOnlyWhatTheInventoryOwnsAndStillCarriesItsLabel() async throws {
        let cluster = FakeCluster()
        var previous = Inventory()
        for (name, labels, annotations) in [
            ("owned", ["capstan.io/inventory": "default"], [:]), ("relabelled", [:], [:]),
            ("kept", ["capstan.io/inventory": "default"], ["capstan.io/prune": "disabled"]),
        ] as [(String, [String: String], [String: String])] {
            let identity = ObjectIdentity(group: "", kind: "ConfigMap", namespace: "default", name: name)
            previous.entries[identity] = InventoryEntry(apiVersion: "v1", identity: identity, hash: "x", file: "\(name).yaml")
            cluster.put([
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": [
                    "name": .string(name), "namespace": "default",
                    "labels": .object(JSONObject(labels.map { ($0.key, .string($0.value)) }, uniquingKeysWith: { a, _ in a })),
                    "annotations": .object(JSONObject(annotations.map { ($0.key, .string($0.value)) }, uniquingKeysWith: { a, _ in a })),
                ],
            ])
        }
        var run = try await Self.planned(["other.yaml": Self.configMap("other")], previous: previous)
        run.next = previous
        try await PruneStep(cluster: cluster, inventoryName: "default").run(&run)
        #expect(cluster.deleted.map(\.name) == ["owned"])
        #expect(run.record.pruned == 1 && run.record.warnings.count == 2, "\(run.record.warnings)")
        #expect(run.next?.entries.isEmpty == true)
    }

    @Test func pruneIsSkippedAfterAFailure() async throws {
        let cluster = FakeCluster()
        let identity = ObjectIdentity(group: "", kind: "ConfigMap", namespace: "default", name: "owned")
        var previous = Inventory()
        previous.entries[identity] = InventoryEntry(apiVersion: "v1", identity: identity, hash: "x", file: "owned.yaml")
        var run = try await Self.planned(["other.yaml": Self.configMap("other")], previous: previous)
        run.next = previous
        run.failure = .retryable(["apply failed"])
        #expect(PruneStep(cluster: cluster, inventoryName: "default").shouldRun(run))
        try await PruneStep(cluster: cluster, inventoryName: "default").run(&run)
        #expect(cluster.deleted.isEmpty && run.next?.entries[identity] != nil)
    }
}

/// A clock on which no time passes: whatever happens, happened because of an event.
struct StoppedClock: Clock {
    var now: ContinuousClock.Instant { ContinuousClock.Instant.now }
    var minimumResolution: Duration { .zero }
    func sleep(until deadline: ContinuousClock.Instant, tolerance: Duration?) async throws {
        while true { try await Task.sleep(for: .seconds(3600)) }
    }
}

/// A clock on which every sleep is over at once.
struct ElapsedClock: Clock {
    var now: ContinuousClock.Instant { ContinuousClock.Instant.now }
    var minimumResolution: Duration { .zero }
    func sleep(until deadline: ContinuousClock.Instant, tolerance: Duration?) async throws {
        try Task.checkCancellation()
    }
}

@Suite struct HealthWaitTests {
    static func deployment(updated: Int) -> JSONValue {
        [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web", "namespace": "default", "generation": 1],
            "spec": ["replicas": 1],
            "status": [
                "observedGeneration": 1, "replicas": .int(Int64(updated)), "updatedReplicas": .int(Int64(updated)),
                "availableReplicas": .int(Int64(updated)),
            ],
        ]
    }

    static func desired() async throws -> DesiredObject {
        let web =
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: web:1}]}\n"
        let run = try await SyncStepTests.planned(["web.yaml": web])
        return try #require(run.objects.first)
    }

    /// No time passes on the clock: the wait can only end because a watch event said the rollout finished.
    @Test func aWaveBecomesHealthyOnAWatchEventWithoutTimePassing() async throws {
        let cluster = FakeCluster()
        cluster.put(Self.deployment(updated: 0))
        let object = try await Self.desired()
        async let waited = HealthCheck(cluster: cluster, clock: StoppedClock()).wait(for: [object], timeout: .seconds(300))
        try await eventually("the wait watches the Deployment") { cluster.state.withLock { !$0.watchers.isEmpty } }
        cluster.put(Self.deployment(updated: 1))
        #expect(await waited == .healthy)
    }

    @Test func aWaveStillProgressingWhenTheTimeoutPassesIsDegraded() async throws {
        let cluster = FakeCluster()
        cluster.put(Self.deployment(updated: 0))
        let waited = await HealthCheck(cluster: cluster, clock: ElapsedClock()).wait(for: [try await Self.desired()], timeout: .seconds(30))
        #expect(waited.status == .degraded && waited.message.hasSuffix("(not healthy after 30s)"), "\(waited)")
    }
}
