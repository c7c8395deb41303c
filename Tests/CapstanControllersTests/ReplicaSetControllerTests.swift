import CapstanAPI
import CapstanAPIServer
import CapstanClient
import CapstanCore
import CapstanTestSupport
import OrderedCollections
import Testing

/// The ReplicaSet controller against a real registry, with the garbage collector.
@Suite struct ReplicaSetControllerTests {
    @Test func scalesReplacesAdoptsReleasesAndIsCollected() async throws {
        try await withCluster { client in
            let rs = try await client.create(
                ReplicaSet.kindInfo, namespace: "default", object: replicaSetManifest("web", replicas: 3, labels: ["app": "web"]), options: writer)
            let uid = try #require(rs[path: ["metadata", "uid"]]?.stringValue)
            func owned() async throws -> [Pod] {
                try await client.pods().filter { $0.controllerUID == uid && $0.metadata.deletionTimestamp == nil }
            }

            // Three pods named <rs>-<5 characters>, labelled from the template, owned by the RS.
            #expect(await eventually { try await owned().count == 3 })
            for pod in try await owned() {
                #expect(pod.metadata.name.hasPrefix("web-") && pod.metadata.name.count == "web-".count + 5)
                #expect(pod.metadata.labels == ["app": "web"])
                #expect(pod.metadata.ownerReferences.first?.kind == "ReplicaSet")
            }
            #expect(
                await eventually {
                    let status = try await client.get(ReplicaSet.self, namespace: "default", name: "web").status
                    return status.replicas == 3 && status.readyReplicas == 3 && status.availableReplicas == 3
                        && status.json["fullyLabeledReplicas"]?.intValue == 3 && status.observedGeneration == 1
                })

            // A deleted pod is replaced.
            let victim = try #require(try await owned().first).metadata.name
            _ = try await client.delete(Pod.kindInfo, namespace: "default", name: victim, options: DeleteOptions())
            #expect(
                await eventually {
                    let pods = try await owned()
                    return pods.count == 3 && !pods.contains { $0.metadata.name == victim }
                })

            // Scaled down to one: the status follows, with the new generation observed.
            try await client.mergePatch(ReplicaSet.kindInfo, "web", ["spec": ["replicas": 1]])
            #expect(
                await eventually {
                    let status = try await client.get(ReplicaSet.self, namespace: "default", name: "web").status
                    return try await owned().count == 1 && status.replicas == 1 && status.observedGeneration == 2
                })

            // An orphan with matching labels is adopted (and, one too many, one pod goes).
            let orphan: JSONValue = [
                "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "stray", "labels": ["app": "web"]],
                "spec": ["containers": [["name": "app", "image": "nginx:1.27"]]],
            ]
            _ = try await client.create(Pod.kindInfo, namespace: "default", object: orphan, options: writer)
            #expect(
                await eventually {
                    let matching = try await client.pods().filter { $0.metadata.labels["app"] == "web" && $0.metadata.deletionTimestamp == nil }
                    return matching.count == 1 && matching.allSatisfy { $0.controllerUID == uid }
                })

            // A pod relabelled out of the selector is released and replaced.
            let kept = try #require(try await owned().first).metadata.name
            try await client.mergePatch(Pod.kindInfo, kept, ["metadata": ["labels": ["app": "debug"]]])
            #expect(
                await eventually {
                    let released = try await client.get(Pod.self, namespace: "default", name: kept)
                    let count = try await owned().count
                    return released.metadata.ownerReferences.isEmpty && count == 1
                })

            // Events are written just after each action: 3 + 1 replacement + 1 after the release; 1 scale-down + 1 surplus.
            #expect(await eventually { try await client.events(reason: "SuccessfulCreate", about: "web").count == 5 })
            #expect(await eventually { try await client.events(reason: "SuccessfulDelete", about: "web").count == 3 })
            let creates = try await client.events(reason: "SuccessfulCreate", about: "web")
            #expect(creates.allSatisfy { $0["message"]?.stringValue?.hasPrefix("Created pod: web-") == true })

            // The garbage collector removes the pods of a deleted ReplicaSet, not the released one.
            _ = try await client.delete(ReplicaSet.kindInfo, namespace: "default", name: "web", options: DeleteOptions())
            #expect(await eventually { try await client.pods().filter { $0.controllerUID == uid }.isEmpty })
            let remaining = try await client.pods().map(\.metadata.name)
            #expect(remaining == [kept])
        }
    }
}
