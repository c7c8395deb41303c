import CapstanAPI
import CapstanAPIServer
import CapstanClient
import CapstanCore
import CapstanTestSupport
import Testing

@Suite struct GarbageCollectorTests {
    /// An owner deleted with the `orphan` finalizer leaves its dependents, freed of the reference.
    @Test func orphanFinalizerKeepsDependents() async throws {
        try await withCluster { client in
            _ = try await client.create(
                ReplicaSet.kindInfo, namespace: "default", object: replicaSetManifest("keep", replicas: 2, labels: ["app": "keep"]), options: writer)
            #expect(await eventually { try await client.pods().filter { $0.ready }.count == 2 })
            try await client.mergePatch(ReplicaSet.kindInfo, "keep", ["metadata": ["finalizers": ["orphan"]]])
            _ = try await client.delete(ReplicaSet.kindInfo, namespace: "default", name: "keep", options: DeleteOptions())
            #expect(await eventually { try await client.replicaSets().isEmpty })
            let pods = try await client.pods()
            #expect(pods.count == 2)
            #expect(pods.allSatisfy { $0.metadata.ownerReferences.isEmpty })
        }
    }

    /// A dependent whose owner reference names a uid that no longer exists is
    /// deleted, even when an object of that name exists again.
    @Test func deletesDependentsOfAVanishedOwnerByUID() async throws {
        try await withCluster { client in
            let pod: JSONValue = [
                "apiVersion": "v1", "kind": "Pod",
                "metadata": [
                    "name": "dangling", "labels": ["x": "y"],
                    "ownerReferences": [
                        ["apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "ghost", "uid": "00000000-dead", "controller": true]
                    ],
                ],
                "spec": ["containers": [["name": "app", "image": "nginx:1.27"]]],
            ]
            _ = try await client.create(
                ReplicaSet.kindInfo, namespace: "default", object: replicaSetManifest("ghost", replicas: 0, labels: ["app": "ghost"]), options: writer
            )
            _ = try await client.create(Pod.kindInfo, namespace: "default", object: pod, options: writer)
            #expect(await eventually { try await client.pods().isEmpty })
            #expect(try await client.replicaSets().count == 1)
        }
    }
}
