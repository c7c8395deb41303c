import CapstanAPI
import CapstanAPIServer
import CapstanClient
import CapstanCore
import CapstanTestSupport
import OrderedCollections
import Testing

@Suite struct NamespaceControllerTests {
    @Test func deletingANamespaceDeletesItsContentThenTheNamespace() async throws {
        try await withCluster { client in
            let namespace: JSONValue = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "team"]]
            _ = try await client.create(Namespace.kindInfo, namespace: nil, object: namespace, options: writer)
            let configMap: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "settings"], "data": ["a": "1"]]
            _ = try await client.create(BuiltinKinds.configMap, namespace: "team", object: configMap, options: writer)
            _ = try await client.create(
                Deployment.kindInfo, namespace: "team", object: deploymentManifest("web", replicas: 2, image: "nginx:1.27"), options: writer)
            // A pod on a node ends gracefully: its node agent has the last word.
            let bound: JSONValue = [
                "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "bound"],
                "spec": ["nodeName": "n1", "containers": [["name": "app", "image": "nginx:1.27"]]],
            ]
            _ = try await client.create(Pod.kindInfo, namespace: "team", object: bound, options: writer)
            #expect(await eventually { try await client.pods("team").filter(\.ready).count == 3 })

            _ = try await client.delete(Namespace.kindInfo, namespace: nil, name: "team", options: DeleteOptions())
            #expect(
                await eventually {
                    let pods = try await client.pods("team")
                    let others =
                        try await client.list(BuiltinKinds.configMap, namespace: "team", options: ListOptions()).items
                        + client.list(Deployment.kindInfo, namespace: "team", options: ListOptions()).items
                        + client.list(ReplicaSet.kindInfo, namespace: "team", options: ListOptions()).items
                    return others.isEmpty && pods.map(\.metadata.name) == ["bound"] && pods[0].metadata.deletionTimestamp != nil
                })
            // Held until the pod is gone, saying why.
            #expect(
                await eventually {
                    let held = try await client.get(Namespace.self, namespace: nil, name: "team")
                    let remaining = held.json["status"]?["conditions"]?.arrayValue?.first { $0["type"] == "NamespaceContentRemaining" }
                    return held.phase == "Terminating" && remaining?["status"] == "True"
                        && remaining?["message"]?.stringValue == "Some resources are remaining: pods. has 1 resource instances"
                })
            await #expect(throws: APIError.self) {
                _ = try await client.create(BuiltinKinds.configMap, namespace: "team", object: configMap, options: writer)
            }

            // The node agent finishes the pod; the namespace follows.
            _ = try await client.delete(Pod.kindInfo, namespace: "team", name: "bound", options: DeleteOptions(gracePeriodSeconds: 0))
            #expect(
                await eventually {
                    do {
                        _ = try await client.get(Namespace.kindInfo, namespace: nil, name: "team")
                        return false
                    } catch let error as APIError {
                        return error.code == 404
                    }
                })
        }
    }

    @Test func aTerminatingNamespaceRefusesNewContent() async throws {
        try await withCluster { client in
            let namespace: JSONValue = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "closing"]]
            _ = try await client.create(Namespace.kindInfo, namespace: nil, object: namespace, options: writer)
            let bound: JSONValue = [
                "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "bound"],
                "spec": ["nodeName": "n1", "containers": [["name": "app", "image": "nginx:1.27"]]],
            ]
            _ = try await client.create(Pod.kindInfo, namespace: "closing", object: bound, options: writer)
            _ = try await client.delete(Namespace.kindInfo, namespace: nil, name: "closing", options: DeleteOptions())
            do {
                _ = try await client.create(
                    Pod.kindInfo, namespace: "closing",
                    object: ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "late"], "spec": bound["spec"]!], options: writer)
                Issue.record("creating in a terminating namespace must fail")
            } catch let error as APIError {
                #expect(error.code == 403)
                #expect(
                    error.message == #"pods "late" is forbidden: unable to create new content in namespace closing because it is being terminated"#)
            }
            _ = try await client.delete(Pod.kindInfo, namespace: "closing", name: "bound", options: DeleteOptions(gracePeriodSeconds: 0))
        }
    }
}
