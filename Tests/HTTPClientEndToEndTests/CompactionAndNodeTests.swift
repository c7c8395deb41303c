import CapstanAPI
import CapstanAPIServer
import CapstanCore
import CapstanStore
import CapstanTestSupport
import Foundation
import Logging
import Testing

@testable import CapstanClient

@Suite struct CompactionAndNodeTests {
    /// A watch from a revision compacted away gets Kubernetes' answer: one
    /// `ERROR` event with a 410 `Status`, then the end of the stream — what
    /// the Informer takes as "list again".
    @Test func watchFromACompactedRevisionEndsWithA410Event() async throws {
        let server = try RestartableServer()
        defer { server.remove() }
        try await server.start()
        var client = try HTTPClusterClient.fromKubeconfig(path: server.kubeconfig)
        _ = try await client.create(BuiltinKinds.configMap, namespace: "default", object: configMap("old"), options: writer)
        let old = try await client.list(BuiltinKinds.configMap, namespace: "default", options: ListOptions()).resourceVersion
        for index in 0..<3 {
            _ = try await client.create(BuiltinKinds.configMap, namespace: "default", object: configMap("new-\(index)"), options: writer)
        }
        await client.shutdown()
        server.stop()

        // Compact the stopped server's store past `old`, then start it again on the same data.
        let store = try SQLiteStore(directory: server.dataDirectory + "/store", options: .init(durability: .normal), logger: Logger(label: "test"))
        try await store.compact(try await store.status().revision)
        store.close()
        try await server.start()
        client = try HTTPClusterClient.fromKubeconfig(path: server.kubeconfig)

        var options = ListOptions()
        options.resourceVersion = old
        var events: [WatchEvent] = []
        for try await event in client.watch(BuiltinKinds.configMap, namespace: "default", options: options) { events.append(event) }
        #expect(events.count == 1, "\(events.map(\.json))")
        #expect(events.first?.type == .error)
        #expect(events.first?.object["code"]?.intValue == 410 && events.first?.object["reason"] == "Expired", "\(events.map(\.json))")
        #expect(await eventually { client.openWatchConnections == 0 })

        // An informer over the same client starts from a fresh list and follows on.
        let informer = Informer<Unstructured>(client: client, kind: BuiltinKinds.configMap, namespace: "default", logger: Logger(label: "test"))
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await informer.run() }
            await informer.waitForSync()
            // The four made here; the root-CA publisher's `kube-root-ca.crt` may be there too.
            #expect(informer.list().map(\.metadata.name).filter { $0 != "kube-root-ca.crt" }.sorted() == ["new-0", "new-1", "new-2", "old"])
            group.cancelAll()
        }
        await client.shutdown()
    }

    /// What a remote node agent does, with a node token: its own Node and its
    /// status, its Lease, Events, its pods (by field selector) and their status,
    /// ConfigMaps; and what it may not: another node.
    @Test func nodeTokenWritesItsOwnNodeButNotAnothers() async throws {
        try await withServer { server, admin in
            let token = try await server.token(role: "node", node: "node-a")
            let kubeconfig = try await server.writeKubeconfig(token: token, name: "node-a.kubeconfig")
            let agent = try HTTPClusterClient.fromKubeconfig(path: kubeconfig)
            defer { Task { await agent.shutdown() } }

            _ = try await agent.create(BuiltinKinds.node, namespace: nil, object: node("node-a"), options: writer)
            _ = try await admin.create(BuiltinKinds.node, namespace: nil, object: node("node-b"), options: writer)
            let ready: JSONValue = ["status": ["conditions": [["type": "Ready", "status": "True", "reason": "KubeletReady"]]]]
            let own = try await agent.patch(
                BuiltinKinds.node, namespace: nil, name: "node-a", patch: .strategic(ready), options: writer, subresource: "status")
            #expect(own[path: ["status", "conditions"]]?.arrayValue?.first?["reason"] == "KubeletReady")
            var current = try await agent.get(BuiltinKinds.node, namespace: nil, name: "node-a")
            current[path: ["status", "capacity"]] = ["cpu": "2"]
            _ = try await agent.update(BuiltinKinds.node, namespace: nil, name: "node-a", object: current, options: writer, subresource: "status")

            let other = await apiError {
                _ = try await agent.patch(
                    BuiltinKinds.node, namespace: nil, name: "node-b", patch: .strategic(ready), options: writer, subresource: "status")
            }
            #expect(other?.code == 403 && other?.reason == "Forbidden", "\(String(describing: other))")
            #expect(other?.message.contains("node-b") == true, "\(String(describing: other))")
            var otherNode = try await agent.get(BuiltinKinds.node, namespace: nil, name: "node-b")
            otherNode[path: ["status", "capacity"]] = ["cpu": "64"]
            let replaced = await apiError {
                _ = try await agent.update(
                    BuiltinKinds.node, namespace: nil, name: "node-b", object: otherNode, options: writer, subresource: "status")
            }
            #expect(replaced?.code == 403, "\(String(describing: replaced))")

            // Its heartbeat Lease, an Event, its pods by field selector, a pod's status, a ConfigMap.
            let lease: JSONValue = [
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": ["name": "node-a", "namespace": "kube-node-lease"],
                "spec": ["holderIdentity": "node-a", "leaseDurationSeconds": 40],
            ]
            _ = try await agent.create(BuiltinKinds.lease, namespace: "kube-node-lease", object: lease, options: writer)
            _ = try await agent.patch(
                BuiltinKinds.lease, namespace: "kube-node-lease", name: "node-a", patch: .merge(["spec": ["leaseDurationSeconds": 41]]),
                options: writer)
            let event: JSONValue = [
                "apiVersion": "v1", "kind": "Event", "metadata": ["name": "node-a.started", "namespace": "default"],
                "involvedObject": ["kind": "Node", "name": "node-a"], "reason": "Starting", "message": "agent started", "type": "Normal",
            ]
            _ = try await agent.create(BuiltinKinds.event, namespace: "default", object: event, options: writer)

            let pod: JSONValue = [
                "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "mine"],
                "spec": [
                    "schedulerName": "manual",
                    "containers": [["name": "c", "image": "busybox", "volumeMounts": [["name": "m", "mountPath": "/m"]]]],
                    "volumes": [["name": "m", "configMap": ["name": "mounted"]]],
                ],
            ]
            _ = try await admin.create(BuiltinKinds.pod, namespace: "default", object: pod, options: writer)
            try await admin.bind(podNamespace: "default", name: "mine", node: "node-a", options: writer)
            var options = ListOptions()
            options.fieldSelector = try FieldSelector(parsing: "spec.nodeName=node-a")
            let pods = try await agent.list(BuiltinKinds.pod, namespace: nil, options: options)
            #expect(pods.items.compactMap { $0[path: ["metadata", "name"]]?.stringValue } == ["mine"])
            // And watches them, as its pod informer does: the current ones come first as ADDED.
            for try await event in agent.watch(BuiltinKinds.pod, namespace: nil, options: options) {
                #expect(event.type == .added && event.object[path: ["metadata", "name"]] == "mine", "\(event.json)")
                break
            }
            _ = try await agent.patch(
                BuiltinKinds.pod, namespace: "default", name: "mine", patch: .merge(["status": ["phase": "Running"]]), options: writer,
                subresource: "status")
            _ = try await admin.create(BuiltinKinds.configMap, namespace: "default", object: configMap("mounted"), options: writer)
            #expect(try await agent.get(BuiltinKinds.configMap, namespace: "default", name: "mounted")["data"]?["a"] == "1")
            // A ConfigMap none of its pods uses is not its to read.
            _ = try await admin.create(BuiltinKinds.configMap, namespace: "default", object: configMap("unused"), options: writer)
            let unused = await apiError { _ = try await agent.get(BuiltinKinds.configMap, namespace: "default", name: "unused") }
            #expect(unused?.code == 403, "\(String(describing: unused))")
            // But not a ConfigMap write.
            let write = await apiError {
                _ = try await agent.create(BuiltinKinds.configMap, namespace: "default", object: configMap("nope"), options: writer)
            }
            #expect(write?.code == 403, "\(String(describing: write))")
        }
    }
}
