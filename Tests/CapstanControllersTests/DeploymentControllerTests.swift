import CapstanAPI
import CapstanAPIServer
import CapstanClient
import CapstanControllers
import CapstanCore
import CapstanTestSupport
import CapstanTesting
import OrderedCollections
import Synchronization
import Testing

/// The Deployment controller end to end: the ReplicaSet controller, the
/// garbage collector and a stand-in node agent run with it.
@Suite struct DeploymentControllerTests {
    static let rolling: JSONValue = ["type": "RollingUpdate", "rollingUpdate": ["maxSurge": 1, "maxUnavailable": 0]]

    func setImage(_ client: InProcessClient, _ name: String, _ image: String) async throws {
        let patch: JSONValue = ["spec": ["template": ["spec": ["containers": [["name": "app", "image": .string(image)]]]]]]
        try await client.mergePatch(Deployment.kindInfo, name, patch)
    }

    func complete(_ client: InProcessClient, _ name: String) async -> Bool {
        await eventually { rolloutComplete(try await client.deployment(name)) }
    }

    @Test func createsReplicaSetAndPodsThenRollsOutAndBack() async throws {
        try await withCluster { client in
            _ = try await client.create(
                Deployment.kindInfo, namespace: "default", object: deploymentManifest("app", replicas: 3, image: "app:v1", strategy: Self.rolling),
                options: writer)
            #expect(await complete(client, "app"))
            let first = try #require(try await client.replicaSets().first)
            let hash = try #require(first.metadata.labels["pod-template-hash"])
            #expect(first.metadata.name == "app-\(hash)")
            #expect(first.metadata.annotations["deployment.kubernetes.io/revision"] == "1")
            #expect(first.spec.selector.matchLabels["pod-template-hash"] == hash)
            #expect(try await client.pods().filter { $0.metadata.labels["pod-template-hash"] == hash }.count == 3)
            var deployment = try await client.deployment("app")
            #expect(deployment.metadata.annotations["deployment.kubernetes.io/revision"] == "1")
            let conditions = Dictionary(deployment.status.conditions.map { ($0.type, $0) }, uniquingKeysWith: { a, _ in a })
            #expect(conditions["Available"]?.status == "True")
            #expect(conditions["Progressing"]?.reason == "NewReplicaSetAvailable")
            #expect(deployment.status.readyReplicas == 3 && deployment.status.unavailableReplicas == 0)

            // A new image rolls out one surge pod at a time (at most four replicas planned), never below three ready pods.
            let samples = Shared<(minReady: Int, maxPods: Int, count: Int)>((Int.max, 0, 0))
            let sampling = Task {
                while !Task.isCancelled {
                    if let pods = try? await client.pods(), let sets = try? await client.replicaSets() {
                        let ready = pods.filter { $0.metadata.deletionTimestamp == nil && $0.ready }.count
                        let planned = Int(sets.reduce(0) { $0 + $1.spec.replicas })
                        samples.mutex.withLock { $0 = (min($0.minReady, ready), max($0.maxPods, planned), $0.count + 1) }
                    }
                    try? await Task.sleep(for: .milliseconds(5))
                }
            }
            try await setImage(client, "app", "app:v2")
            #expect(await complete(client, "app"))
            sampling.cancel()
            _ = await sampling.value
            let (minReady, maxPods, sampled) = samples.mutex.withLock { $0 }
            #expect(sampled >= 3)
            #expect(minReady >= 3)
            #expect(maxPods <= 4)
            let afterRollout = try await client.replicaSets()
            #expect(afterRollout.count == 2)
            let second = try #require(afterRollout.first { $0.metadata.uid != first.metadata.uid })
            #expect(second.spec.replicas == 3)
            #expect(second.metadata.annotations["deployment.kubernetes.io/revision"] == "2")
            #expect(afterRollout.first { $0.metadata.uid == first.metadata.uid }?.spec.replicas == 0)
            #expect(try await client.pods().allSatisfy { $0.spec.containers.first?.image == "app:v2" })
            let scaling = try await client.events(reason: "ScalingReplicaSet", about: "app").compactMap { $0["message"]?.stringValue }
            #expect(scaling.contains("Scaled up replica set \(second.metadata.name) from 0 to 1"))
            #expect(scaling.contains { $0.hasPrefix("Scaled down replica set \(first.metadata.name) from 3 to 2") })

            // Rolling back to the first template reuses the first ReplicaSet as revision 3.
            try await setImage(client, "app", "app:v1")
            #expect(await complete(client, "app"))
            let afterUndo = try await client.replicaSets()
            #expect(afterUndo.count == 2)
            let reused = try #require(afterUndo.first { $0.metadata.uid == first.metadata.uid })
            #expect(reused.spec.replicas == 3)
            #expect(reused.metadata.annotations["deployment.kubernetes.io/revision"] == "3")
            #expect(reused.metadata.annotations["deployment.kubernetes.io/revision-history"] == "1")
            deployment = try await client.deployment("app")
            #expect(deployment.metadata.annotations["deployment.kubernetes.io/revision"] == "3")
        }
    }

    @Test func recreateNeverRunsOldAndNewPodsTogether() async throws {
        try await withCluster { client in
            _ = try await client.create(
                Deployment.kindInfo, namespace: "default",
                object: deploymentManifest("batch", replicas: 2, image: "app:v1", strategy: ["type": "Recreate"]), options: writer)
            #expect(await complete(client, "batch"))
            let mixed = Shared(false)
            let sampled = Shared(0)
            let sampling = Task {
                while !Task.isCancelled {
                    if let pods = try? await client.pods() {
                        let images = Set(pods.filter { $0.metadata.deletionTimestamp == nil }.compactMap { $0.spec.containers.first?.image })
                        if images.count > 1 { mixed.mutex.withLock { $0 = true } }
                        sampled.mutex.withLock { $0 += 1 }
                    }
                    try? await Task.sleep(for: .milliseconds(5))
                }
            }
            try await setImage(client, "batch", "app:v2")
            #expect(await complete(client, "batch"))
            sampling.cancel()
            _ = await sampling.value
            #expect(sampled.mutex.withLock { $0 } >= 3)
            #expect(!mixed.mutex.withLock { $0 })
            let pods = try await client.pods()
            #expect(pods.count == 2 && pods.allSatisfy { $0.spec.containers.first?.image == "app:v2" })
        }
    }

    @Test func pausedDeploymentScalesButDoesNotRollOut() async throws {
        try await withCluster { client in
            _ = try await client.create(
                Deployment.kindInfo, namespace: "default", object: deploymentManifest("hold", replicas: 2, image: "app:v1"), options: writer)
            #expect(await complete(client, "hold"))
            try await client.mergePatch(Deployment.kindInfo, "hold", ["spec": ["paused": true]])
            try await setImage(client, "hold", "app:v2")
            try await client.mergePatch(Deployment.kindInfo, "hold", ["spec": ["replicas": 3]])
            #expect(
                await eventually {
                    let deployment = try await client.deployment("hold")
                    let progressing = deployment.status.conditions.first { $0.type == "Progressing" }
                    return deployment.status.observedGeneration == deployment.metadata.generation && progressing?.reason == "DeploymentPaused"
                        && deployment.status.replicas == 3
                })
            #expect(try await client.replicaSets().count == 1)
            #expect(try await client.pods().allSatisfy { $0.spec.containers.first?.image == "app:v1" })

            try await client.mergePatch(Deployment.kindInfo, "hold", ["spec": ["paused": false]])
            #expect(await complete(client, "hold"))
            #expect(try await client.replicaSets().count == 2)
            #expect(try await client.pods().allSatisfy { $0.spec.containers.first?.image == "app:v2" })
        }
    }

    @Test func revisionHistoryLimitDeletesOldReplicaSets() async throws {
        try await withCluster { client in
            let manifest = deploymentManifest("hist", replicas: 1, image: "app:v1", strategy: Self.rolling, extraSpec: ["revisionHistoryLimit": 1])
            _ = try await client.create(Deployment.kindInfo, namespace: "default", object: manifest, options: writer)
            #expect(await complete(client, "hist"))
            for version in ["v2", "v3", "v4"] {
                try await setImage(client, "hist", "app:\(version)")
                #expect(await complete(client, "hist"))
            }
            #expect(
                await eventually {
                    let revisions = Set(try await client.replicaSets().compactMap { $0.metadata.annotations["deployment.kubernetes.io/revision"] })
                    return revisions == ["3", "4"]
                })
        }
    }

    @Test func reportsProgressDeadlineExceededOnceTheDeadlinePasses() async throws {
        let clock = ManualClock()
        try await withCluster(configuration: .init(clock: clock, wallClock: clock)) { client in
            let manifest = deploymentManifest("stuck", replicas: 2, image: "never-ready", extraSpec: ["progressDeadlineSeconds": 600])
            _ = try await client.create(Deployment.kindInfo, namespace: "default", object: manifest, options: writer)
            func progressing() async throws -> Condition? {
                try await client.deployment("stuck").status.conditions.first { $0.type == "Progressing" }
            }
            #expect(
                await eventually {
                    let unavailable = try await client.deployment("stuck").status.unavailableReplicas
                    let status = try await progressing()?.status
                    return unavailable == 2 && status == "True"
                })
            // A pass after real time went by but the clock did not: a change of
            // spec (not template) is reconciled and observed, still in progress.
            try await client.mergePatch(Deployment.kindInfo, "stuck", ["spec": ["revisionHistoryLimit": 5]])
            #expect(await eventually { try await client.deployment("stuck").status.observedGeneration == 2 })
            #expect(try await progressing()?.status == "True")

            clock.advance(by: .seconds(601))
            #expect(
                await eventually {
                    let progressing = try await progressing()
                    return progressing?.status == "False" && progressing?.reason == "ProgressDeadlineExceeded"
                })
            let deployment = try await client.deployment("stuck")
            #expect(deployment.status.conditions.first { $0.type == "Available" }?.status == "False")
            #expect(deployment.status.unavailableReplicas == 2)
        }
    }

    @Test func scalingResizesTheReplicaSetAndDeletionCascades() async throws {
        try await withCluster { client in
            _ = try await client.create(
                Deployment.kindInfo, namespace: "default", object: deploymentManifest("size", replicas: 2, image: "app:v1"), options: writer)
            #expect(await complete(client, "size"))
            try await client.mergePatch(Deployment.kindInfo, "size", ["spec": ["replicas": 4]])
            #expect(await complete(client, "size"))
            let sets = try await client.replicaSets()
            #expect(sets.count == 1)
            let name = try #require(sets.first).metadata.name
            #expect(sets.first?.metadata.annotations["deployment.kubernetes.io/desired-replicas"] == "4")
            let scaling = try await client.events(reason: "ScalingReplicaSet", about: "size").compactMap { $0["message"]?.stringValue }
            #expect(scaling.contains("Scaled up replica set \(name) from 2 to 4"))

            // Deleting the Deployment takes its ReplicaSet and then the pods with it (background propagation).
            _ = try await client.delete(Deployment.kindInfo, namespace: "default", name: "size", options: DeleteOptions())
            #expect(
                await eventually {
                    let sets = try await client.replicaSets()
                    let pods = try await client.pods()
                    return sets.isEmpty && pods.isEmpty
                })
        }
    }
}
