import CapstanAPI
import CapstanAPIServer
import CapstanClient
import CapstanCore
import CapstanTestSupport
import Logging
import OrderedCollections
import Synchronization
import Testing

@Suite struct InformerTests {
    @Test func cacheFollowsCreatesUpdatesAndDeletes() async throws {
        try await withRegistry { registry in
            let client = InProcessClient(registry: registry)
            _ = try await client.create(BuiltinKinds.configMap, namespace: "default", object: configMap("before"), options: writer)
            let informer = Informer<ConfigMapView>(client: client, kind: BuiltinKinds.configMap, namespace: "default", logger: Logger(label: "test"))
            let changes = informer.changes()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await informer.run() }
                await informer.waitForSync()
                #expect(informer.get(ObjectKey(namespace: "default", name: "before")) != nil)

                _ = try await client.create(BuiltinKinds.configMap, namespace: "default", object: configMap("after"), options: writer)
                _ = try await client.patch(
                    BuiltinKinds.configMap, namespace: "default", name: "before", patch: .merge(["data": ["a": "2"]]), options: writer)
                _ = try await client.delete(BuiltinKinds.configMap, namespace: "default", name: "after", options: DeleteOptions())

                var seen: [String] = []
                for await change in changes {
                    switch change {
                    case .added(let object): seen.append("added \(object.metadata.name)")
                    case .updated(_, let new): seen.append("updated \(new.metadata.name) \(new.json["data"]?["a"]?.stringValue ?? "")")
                    case .deleted(let object): seen.append("deleted \(object.metadata.name)")
                    }
                    if seen.count == 4 { break }
                }
                #expect(seen == ["added before", "added after", "updated before 2", "deleted after"])
                #expect(informer.list().map(\.metadata.name) == ["before"])
                #expect(informer.get(ObjectKey(namespace: "default", name: "before"))?.json["data"]?["a"] == "2")
                group.cancelAll()
            }
        }
    }

    @Test func expiredWatchListsAgainAndReportsWhatWasMissed() async throws {
        try await withRegistry { registry in
            let base = InProcessClient(registry: registry)
            let client = ExpiringWatchClient(base: base, failures: 1)
            for name in ["a", "b", "c"] {
                _ = try await base.create(BuiltinKinds.configMap, namespace: "default", object: configMap(name), options: writer)
            }
            let informer = Informer<ConfigMapView>(client: client, kind: BuiltinKinds.configMap, logger: Logger(label: "test"))
            let deleted = NameLog()
            let changes = informer.changes()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await informer.run() }
                group.addTask {
                    for await change in changes {
                        if case .deleted(let object) = change { deleted.names.withLock { $0.append(object.metadata.name) } }
                    }
                }
                await informer.waitForSync()
                #expect(informer.count == 3)
                // The first watch delivers this one event, then expires (410);
                // the deletions of b and c happen while no watch is open… or just after.
                _ = try await base.create(BuiltinKinds.configMap, namespace: "default", object: configMap("d"), options: writer)
                _ = try await base.delete(BuiltinKinds.configMap, namespace: "default", name: "b", options: DeleteOptions())
                _ = try await base.delete(BuiltinKinds.configMap, namespace: "default", name: "c", options: DeleteOptions())
                #expect(await eventually { informer.count == 2 && client.watchCount.withLock { $0 } >= 2 })
                #expect(Set(informer.list().map(\.metadata.name)) == ["a", "d"])
                #expect(await eventually { Set(deleted.names.withLock { $0 }) == ["b", "c"] })
                group.cancelAll()
            }
        }
    }

    @Test func selectorsNarrowTheCache() async throws {
        try await withRegistry { registry in
            let client = InProcessClient(registry: registry)
            var labelled = configMap("x")
            labelled[path: ["metadata", "labels"]] = ["app": "web"]
            _ = try await client.create(BuiltinKinds.configMap, namespace: "default", object: labelled, options: writer)
            _ = try await client.create(BuiltinKinds.configMap, namespace: "default", object: configMap("y"), options: writer)
            var options = ListOptions()
            options.labelSelector = LabelSelector(matchLabels: ["app": "web"])
            let informer = Informer<ConfigMapView>(client: client, kind: BuiltinKinds.configMap, options: options, logger: Logger(label: "test"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await informer.run() }
                await informer.waitForSync()
                #expect(informer.list().map(\.metadata.name) == ["x"])
                group.cancelAll()
            }
        }
    }

    @Test func inProcessClientKeepsRegistryChecks() async throws {
        try await withRegistry { registry in
            let client = InProcessClient(registry: registry)
            let created = try await client.create(BuiltinKinds.configMap, namespace: "default", object: configMap("cm"), options: writer)
            var stale = created
            stale[path: ["data", "a"]] = "3"
            _ = try await client.update(BuiltinKinds.configMap, namespace: "default", name: "cm", object: stale, options: writer)
            // The same body again carries a resourceVersion that is now stale.
            await #expect {
                _ = try await client.update(BuiltinKinds.configMap, namespace: "default", name: "cm", object: stale, options: writer)
            } throws: { error in
                (error as? APIError)?.code == 409
            }
            let invalidPod: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p"], "spec": ["containers": []]]
            await #expect { _ = try await client.create(BuiltinKinds.pod, namespace: "default", object: invalidPod, options: writer) } throws: {
                error in
                (error as? APIError)?.code == 422
            }
            await #expect {
                _ = try await client.patch(
                    BuiltinKinds.configMap, namespace: "default", name: "cm", patch: .merge([:]), options: writer, subresource: "scale")
            } throws: { error in
                (error as? APIError)?.code == 404
            }
            let applied = try await client.patch(
                BuiltinKinds.configMap, namespace: "default", name: "applied",
                patch: .apply(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "applied"], "data": ["k": "v"]], force: false),
                options: WriteOptions(fieldManager: "gitops"))
            #expect(applied[path: ["data", "k"]] == "v")
        }
    }

    @Test func bindingAssignsANodeOnce() async throws {
        try await withRegistry { registry in
            let client = InProcessClient(registry: registry)
            let pod: JSONValue = [
                "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p"], "spec": ["containers": [["name": "c", "image": "busybox"]]],
            ]
            _ = try await client.create(BuiltinKinds.pod, namespace: "default", object: pod, options: writer)
            try await client.bind(podNamespace: "default", name: "p", node: "n1", options: writer)
            let bound = try await client.get(Pod.self, namespace: "default", name: "p")
            #expect(bound.spec.nodeName == "n1")
            await #expect { try await client.bind(podNamespace: "default", name: "p", node: "n2", options: writer) } throws: { error in
                (error as? APIError)?.code == 409
            }
        }
    }
}

/// A ConfigMap through the generic view (Capstan has no typed ConfigMap view).
struct ConfigMapView: KubernetesObjectView {
    var json: JSONObject
}

final class NameLog: Sendable {
    let names = Mutex<[String]>([])
}
