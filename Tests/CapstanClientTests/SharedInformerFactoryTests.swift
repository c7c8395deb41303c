import CapstanAPI
import CapstanAPIServer
import CapstanClient
import CapstanCore
import Logging
import Testing

/// One informer per kind, namespace and selector for the whole process, shared
/// by every consumer, each of which sees the whole cache whenever it subscribes.
@Suite struct SharedInformerFactoryTests {
    @Test func theSameKindNamespaceAndSelectorIsOneInformer() async throws {
        try await withRegistry { registry in
            let factory = SharedInformerFactory(client: InProcessClient(registry: registry), logger: Logger(label: "test"))
            let first = factory.informer(ConfigMapView.self, kind: BuiltinKinds.configMap)
            let second = factory.informer(ConfigMapView.self, kind: BuiltinKinds.configMap)
            let inDefault = factory.informer(ConfigMapView.self, kind: BuiltinKinds.configMap, namespace: "default")
            var labelled = ListOptions()
            labelled.labelSelector = LabelSelector(matchLabels: ["app": "web"])
            let selected = factory.informer(ConfigMapView.self, kind: BuiltinKinds.configMap, options: labelled)
            #expect(first === second)
            #expect(first !== inDefault)
            #expect(first !== selected)
            #expect(factory.informerCount == 3)
        }
    }

    @Test func aSubscriberThatComesLateIsToldOfEveryCachedObject() async throws {
        try await withRegistry { registry in
            let client = InProcessClient(registry: registry)
            _ = try await client.create(BuiltinKinds.configMap, namespace: "default", object: configMap("before"), options: writer)
            let factory = SharedInformerFactory(client: client, logger: Logger(label: "test"))
            let informer = factory.informer(ConfigMapView.self, kind: BuiltinKinds.configMap, namespace: "default")
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await factory.run() }
                await factory.waitForCacheSync()
                // Subscribed after the first list: the cache is replayed, then changes follow.
                let changes = informer.changes()
                _ = try await client.create(BuiltinKinds.configMap, namespace: "default", object: configMap("after"), options: writer)
                var seen: [String] = []
                for await change in changes {
                    if case .added(let object) = change { seen.append(object.metadata.name) }
                    if seen.count == 2 { break }
                }
                #expect(seen == ["before", "after"])
                group.cancelAll()
            }
        }
    }

    @Test func anInformerAskedForAfterTheFactoryStartedIsRunToo() async throws {
        try await withRegistry { registry in
            let client = InProcessClient(registry: registry)
            _ = try await client.create(BuiltinKinds.configMap, namespace: "default", object: configMap("present"), options: writer)
            let factory = SharedInformerFactory(client: client, logger: Logger(label: "test"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await factory.run() }
                let informer = factory.informer(ConfigMapView.self, kind: BuiltinKinds.configMap)
                await factory.waitForCacheSync()
                #expect(informer.hasSynced)
                #expect(informer.get(ObjectKey(namespace: "default", name: "present")) != nil)
                group.cancelAll()
            }
        }
    }
}
