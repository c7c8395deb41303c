public import CapstanClient
import CapstanAPIServer
import CapstanCore
public import Logging
public import ServiceLifecycle

/// The ReplicaSet and Deployment controllers and the garbage collector as
/// one service, over shared informers for pods, ReplicaSets and Deployments.
///
/// Wiring, next to the scheduler in `capstan server`'s ServiceGroup:
/// `ControllerManager(client: InProcessClient(registry: apiServer.registry), logger: logger)`.
///
/// Changes are routed to the controller that cares: a pod change queues its
/// owning ReplicaSet (or, for an orphan, every ReplicaSet whose selector
/// matches it, which may adopt it); a ReplicaSet change queues its
/// Deployment likewise; a pod deletion also queues the Deployment (Recreate
/// waits for old pods to be gone). Every object is queued again each
/// `resyncInterval`, so a missed event costs latency, never correctness.
public struct ControllerManager: ServiceLifecycle.Service {
    public struct Configuration: Sendable {
        /// Concurrent reconciles per controller (never two for the same object).
        public var workers: Int
        /// How often every object is reconciled even without a change.
        public var resyncInterval: Duration

        public init(workers: Int = 2, resyncInterval: Duration = .seconds(60)) {
            self.workers = workers
            self.resyncInterval = resyncInterval
        }
    }

    public let configuration: Configuration
    let client: any ClusterClient
    let events: any ControllerEventRecorder
    let logger: Logger

    /// - Parameter events: where events go; by default core/v1 Events written through `client`.
    public init(client: any ClusterClient, configuration: Configuration = Configuration(), logger: Logger, events: (any ControllerEventRecorder)? = nil) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
        self.events = events ?? ClientControllerEventRecorder(client: client, component: "controller-manager", logger: logger)
    }

    public func run() async throws {
        let pods = Informer<Pod>(client: client, kind: BuiltinKinds.pod, logger: logger)
        let replicaSets = Informer<ReplicaSet>(client: client, kind: BuiltinKinds.replicaSet, logger: logger)
        let deployments = Informer<Deployment>(client: client, kind: BuiltinKinds.deployment, logger: logger)
        let rsQueue = WorkQueue<ObjectKey>()
        let deploymentQueue = WorkQueue<ObjectKey>()
        let gcQueue = WorkQueue<GarbageCollector.Item>()

        let rsController = Controller(
            name: "replicaset-controller", informer: replicaSets,
            reconciler: ReplicaSetReconciler(client: client, events: events, logger: logger),
            workers: configuration.workers, queue: rsQueue, runsInformer: false, logger: logger)
        let deploymentController = Controller(
            name: "deployment-controller", informer: deployments,
            reconciler: DeploymentReconciler(client: client, events: events, logger: logger),
            workers: configuration.workers, queue: deploymentQueue, runsInformer: false, logger: logger)
        let tracked = [
            TrackedKind(pods, kind: BuiltinKinds.pod), TrackedKind(replicaSets, kind: BuiltinKinds.replicaSet),
            TrackedKind(deployments, kind: BuiltinKinds.deployment),
        ]
        let collector = GarbageCollector(client: client, dependentKinds: tracked.map(\.kind), logger: logger)
        let router = ChangeRouter(replicaSets: replicaSets, deployments: deployments, tracked: tracked)

        // Subscribed before the informers run, so the first lists are seen too.
        let podChanges = pods.changes(), rsChanges = replicaSets.changes(), deploymentChanges = deployments.changes()
        let configuration = self.configuration
        let logger = self.logger

        try await cancelWhenGracefulShutdown {
            try await withTaskCancellationHandler {
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask { try await pods.run() }
                    group.addTask { try await replicaSets.run() }
                    group.addTask { try await deployments.run() }
                    group.addTask {
                        for await change in podChanges {
                            for key in router.replicaSets(for: change) { await rsQueue.add(key) }
                            if case .deleted(let pod) = change {
                                for key in router.deployments(forDeletedPod: pod) { await deploymentQueue.add(key) }
                            }
                            for item in router.collectorItems(for: change, kind: BuiltinKinds.pod) { await gcQueue.add(item) }
                        }
                    }
                    group.addTask {
                        for await change in rsChanges {
                            for key in router.deployments(for: change) { await deploymentQueue.add(key) }
                            for item in router.collectorItems(for: change, kind: BuiltinKinds.replicaSet) { await gcQueue.add(item) }
                        }
                    }
                    group.addTask {
                        for await change in deploymentChanges {
                            for item in router.collectorItems(for: change, kind: BuiltinKinds.deployment) { await gcQueue.add(item) }
                        }
                    }
                    group.addTask { try await rsController.run() }
                    group.addTask { try await deploymentController.run() }

                    await pods.waitForSync()
                    await replicaSets.waitForSync()
                    await deployments.waitForSync()
                    logger.info("controllers started", metadata: ["pods": "\(pods.count)", "replicasets": "\(replicaSets.count)", "deployments": "\(deployments.count)"])
                    for index in 0..<max(1, configuration.workers) {
                        group.addTask { await Self.collect(gcQueue, collector, logger: logger, worker: index) }
                    }
                    group.addTask {
                        while !Task.isCancelled {
                            for key in replicaSets.list().map(ObjectKey.init) { await rsQueue.add(key) }
                            for key in deployments.list().map(ObjectKey.init) { await deploymentQueue.add(key) }
                            for item in router.everyDependent() { await gcQueue.add(item) }
                            try? await Task.sleep(for: configuration.resyncInterval)
                        }
                    }
                }
            } onCancel: {
                Task { await gcQueue.shutDown() }
            }
        }
    }

    /// The garbage collector's worker loop (its items are not plain object keys).
    private static func collect(_ queue: WorkQueue<GarbageCollector.Item>, _ collector: GarbageCollector, logger: Logger, worker: Int) async {
        while let item = await queue.get() {
            do {
                switch try await collector.process(item) {
                case .done:
                    await queue.forget(item)
                case .requeueAfter(let delay):
                    await queue.forget(item)
                    await queue.addAfter(item, delay)
                }
            } catch {
                logger.warning("garbage collector: processing failed; retrying", metadata: ["item": "\(item)", "error": "\(error)", "worker": "\(worker)"])
                await queue.addRateLimited(item)
            }
            await queue.done(item)
        }
    }
}
