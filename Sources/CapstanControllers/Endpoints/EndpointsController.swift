package import CapstanAPI
package import CapstanClient
import CapstanCore
package import Logging
import OrderedCollections
package import ServiceLifecycle

/// Keeps one Endpoints object per Service with a selector, named after it,
/// listing the pods behind it (what `kubectl get endpoints` shows and the
/// GitOps health check reads), and the Service's EndpointSlices (what node
/// proxies and DNS read; EndpointSliceReconciler.swift), each on its own
/// queue. A pod change queues every Service in its namespace whose selector
/// matched it before or after; a change to a managed slice queues its Service.
package struct EndpointsController: ServiceLifecycle.Service {
    let client: any ClusterClient
    let logger: Logger
    let workers: Int
    let sharedInformers: SharedInformerFactory?

    /// - Parameter informers: the process's shared informers, run by the caller;
    ///   nil to make and run a factory of this controller's own.
    package init(client: any ClusterClient, logger: Logger, workers: Int = 2, informers: SharedInformerFactory? = nil) {
        self.client = client
        self.logger = logger
        self.workers = workers
        self.sharedInformers = informers
    }

    package func run() async throws {
        let informers = sharedInformers ?? SharedInformerFactory(client: client, logger: logger)
        let runsInformers = sharedInformers == nil
        let services = informers.informer(CapstanCore.Service.self, kind: BuiltinKinds.service)
        let pods = informers.informer(Pod.self, kind: BuiltinKinds.pod)
        let slices = informers.informer(EndpointSlice.self, kind: BuiltinKinds.endpointSlice)
        let queue = WorkQueue<ObjectKey>()
        let controller = Controller(
            name: "endpoints-controller", informer: services,
            reconciler: EndpointsReconciler(client: client, services: services, pods: pods, logger: logger),
            workers: workers, queue: queue, runsInformer: false, logger: logger)
        let sliceQueue = WorkQueue<ObjectKey>()
        let sliceController = Controller(
            name: "endpointslice-controller", informer: services,
            reconciler: EndpointSliceReconciler(client: client, services: services, pods: pods, slices: slices, logger: logger),
            workers: workers, queue: sliceQueue, runsInformer: false, logger: logger)
        let podChanges = pods.changes()
        let sliceChanges = slices.changes()
        try await cancelWhenGracefulShutdown {
            try await withThrowingDiscardingTaskGroup { group in
                if runsInformers { group.addTask { try await informers.run() } }
                group.addTask {
                    for await change in podChanges {
                        var labelSets = [change.object.metadata.labels]
                        if case .updated(let old, _) = change { labelSets.append(old.metadata.labels) }
                        let namespace = change.object.metadata.namespace
                        for service in services.list() where service.metadata.namespace == namespace {
                            let selector = service.spec.selector
                            guard !selector.isEmpty else { continue }
                            if labelSets.contains(where: { labels in selector.allSatisfy { labels[$0.key] == $0.value } }) {
                                await queue.add(ObjectKey(service))
                                await sliceQueue.add(ObjectKey(service))
                            }
                        }
                    }
                }
                group.addTask {
                    for await change in sliceChanges {
                        guard change.object.metadata.labels[EndpointSliceReconciler.managedByLabel] == EndpointSliceReconciler.managedBy,
                            let service = change.object.serviceName
                        else { continue }
                        await sliceQueue.add(ObjectKey(namespace: change.object.metadata.namespace, name: service))
                    }
                }
                group.addTask { try await controller.run() }
                group.addTask { try await sliceController.run() }
            }
        }
    }
}

struct EndpointsReconciler: Reconciler {
    let client: any ClusterClient
    let services: Informer<CapstanCore.Service>
    let pods: Informer<Pod>
    let logger: Logger

    func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        // The Endpoints of a deleted Service go with it through its owner reference.
        guard let service = services.get(key), !service.spec.selector.isEmpty else { return .done }
        let namespace = key.namespace ?? "default"
        let subsets = EndpointsBuilder.subsets(for: service, pods: pods.list().filter { $0.metadata.namespace == namespace })
        var endpoints: JSONObject = [
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": [
                "name": .string(key.name), "namespace": .string(namespace),
                "labels": .object(
                    JSONObject(uniqueKeysWithValues: service.metadata.labels.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) })),
                "ownerReferences": [
                    [
                        "apiVersion": "v1", "kind": "Service", "name": .string(key.name), "uid": .string(service.metadata.uid ?? ""),
                        "controller": true, "blockOwnerDeletion": true,
                    ]
                ],
            ],
        ]
        if !subsets.isEmpty { endpoints["subsets"] = .array(subsets) }
        let options = WriteOptions(fieldManager: "endpoints-controller")
        do {
            let current = try await client.get(BuiltinKinds.endpoints, namespace: namespace, name: key.name)
            if current["subsets"] == endpoints["subsets"], current[path: ["metadata", "labels"]] ?? [:] == endpoints["metadata"]?["labels"] ?? [:] {
                return .done
            }
            endpoints["metadata"]?["resourceVersion"] = current[path: ["metadata", "resourceVersion"]]
            // Others' annotations (and those of tools) stay.
            if let annotations = current[path: ["metadata", "annotations"]] { endpoints["metadata"]?["annotations"] = annotations }
            _ = try await client.update(BuiltinKinds.endpoints, namespace: namespace, name: key.name, object: .object(endpoints), options: options)
        } catch let error as APIError where error.code == 404 {
            _ = try await client.create(BuiltinKinds.endpoints, namespace: namespace, object: .object(endpoints), options: options)
        }
        return .done
    }
}
