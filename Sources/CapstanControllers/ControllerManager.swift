package import CapstanAPI
package import CapstanClient
package import CapstanCore
package import Foundation
package import Logging
package import ServiceLifecycle

/// The ReplicaSet, Deployment, node lifecycle, namespace and service-account
/// controllers, the root-CA publisher and the garbage collector as one service, over the process's
/// shared informers for pods, ReplicaSets, Deployments, nodes, node Leases,
/// namespaces and ServiceAccounts.
///
/// Wiring, next to the scheduler in one ServiceGroup (see `ControlPlane`):
/// `ControllerManager(client: client, logger: logger, informers: factory)`, with
/// the same ``SharedInformerFactory`` the scheduler reads, run as its own service.
///
/// Changes are routed to the controller that cares: a pod change queues its
/// owning ReplicaSet (or, for an orphan, every ReplicaSet whose selector
/// matches it, which may adopt it); a ReplicaSet change queues its
/// Deployment likewise; a pod deletion also queues the Deployment (Recreate
/// waits for old pods to be gone). Every object is queued again each
/// `resyncInterval`, so a missed event costs latency, never correctness.
package struct ControllerManager: ServiceLifecycle.Service {
    package struct Configuration: Sendable {
        /// Concurrent reconciles per controller (never two for the same object).
        package var workers: Int
        /// How often every object is reconciled even without a change.
        package var resyncInterval: Duration
        /// How long a node may go without renewing its Lease or heartbeat before
        /// it is marked Unknown (kube-controller-manager's `--node-monitor-grace-period`).
        package var nodeMonitorGracePeriod: Duration
        /// How often node health is checked even without a change (`--node-monitor-period`).
        package var nodeMonitorPeriod: Duration
        /// What every wait runs on: work-queue delays and backoff, requeues
        /// (a progress deadline, `minReadySeconds`, a terminating namespace's
        /// recheck), the resync, node monitoring, and the manager's own
        /// informers' re-list back-off. Tests pass a manual clock and advance it.
        package var clock: any Clock<Duration>
        /// What the controllers read the time of day from: condition, taint and
        /// eviction times they write, and the deadlines they count from times
        /// in objects (heartbeats, `lastUpdateTime`, toleration seconds).
        /// A manual clock is both, so one `advance` moves the two together.
        package var wallClock: any WallClock
        /// The API server's CA certificate (PEM), published as `kube-root-ca.crt` in
        /// every namespace (``RootCAPublisher``); nil publishes nothing.
        package var rootCertificate: String?

        package init(
            workers: Int = 2, resyncInterval: Duration = .seconds(60), nodeMonitorGracePeriod: Duration = .seconds(40),
            nodeMonitorPeriod: Duration = .seconds(5), clock: any Clock<Duration> = ContinuousClock(),
            wallClock: any WallClock = SystemWallClock()
        ) {
            self.workers = workers
            self.resyncInterval = resyncInterval
            self.nodeMonitorGracePeriod = nodeMonitorGracePeriod
            self.nodeMonitorPeriod = nodeMonitorPeriod
            self.clock = clock
            self.wallClock = wallClock
        }
    }

    package let configuration: Configuration
    let client: any ClusterClient
    let events: EventRecorder
    let sharedInformers: SharedInformerFactory?
    let logger: Logger

    /// - Parameters:
    ///   - events: where events go; by default core/v1 Events written through `client`.
    ///   - informers: the process's shared informers, run by the caller; nil to
    ///     make and run a factory of this manager's own.
    package init(
        client: any ClusterClient, configuration: Configuration = Configuration(), logger: Logger,
        events: (EventRecorder)? = nil, informers: SharedInformerFactory? = nil
    ) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
        self.sharedInformers = informers
        self.events =
            events
            ?? EventRecorder(
                client: client, component: "controller-manager", logger: logger,
                now: { [wallClock = configuration.wallClock] in wallClock.currentDate })
    }

    package func run() async throws {
        let clock = configuration.clock
        let wallClock = configuration.wallClock
        let informers = sharedInformers ?? SharedInformerFactory(client: client, clock: clock, logger: logger)
        let runsInformers = sharedInformers == nil
        let pods = informers.informer(Pod.self, kind: BuiltinKinds.pod)
        let replicaSets = informers.informer(ReplicaSet.self, kind: BuiltinKinds.replicaSet)
        let deployments = informers.informer(Deployment.self, kind: BuiltinKinds.deployment)
        let replicationControllers = informers.informer(ReplicationController.self, kind: BuiltinKinds.replicationController)
        let nodes = informers.informer(Node.self, kind: BuiltinKinds.node)
        let leases = informers.informer(Lease.self, kind: BuiltinKinds.lease, namespace: NodeLifecycleController.leaseNamespace)
        let namespaces = informers.informer(Namespace.self, kind: BuiltinKinds.namespace)
        let serviceAccounts = informers.informer(ServiceAccount.self, kind: BuiltinKinds.serviceAccount)
        let terminalErrors = TerminalErrorReporter(
            client: client, component: "controller-manager", wallClock: wallClock, logger: logger, events: events)
        let rsQueue = WorkQueue<ObjectKey>(clock: clock)
        let rcQueue = WorkQueue<ObjectKey>(clock: clock)
        let deploymentQueue = WorkQueue<ObjectKey>(clock: clock)
        let namespaceQueue = WorkQueue<ObjectKey>(clock: clock)
        let serviceAccountQueue = WorkQueue<ObjectKey>(clock: clock)
        let rootCAQueue = WorkQueue<ObjectKey>(clock: clock)
        let gcQueue = WorkQueue<GarbageCollector.Item>(clock: clock)

        let rsController = Controller(
            name: "replicaset-controller", informer: replicaSets,
            reconciler: ReplicaSetReconciler(client: client, events: events, logger: logger, wallClock: wallClock),
            workers: configuration.workers, queue: rsQueue, runsInformer: false,
            terminalErrors: terminalErrors, logger: logger)
        // A ReplicationController is run by the ReplicaSet reconciler itself.
        let rcController = Controller(
            name: "replicationcontroller-controller", informer: replicationControllers,
            reconciler: ReplicaSetReconciler(
                client: client, events: events, logger: logger, kind: BuiltinKinds.replicationController, wallClock: wallClock),
            workers: configuration.workers, queue: rcQueue, runsInformer: false,
            terminalErrors: terminalErrors, logger: logger)
        let deploymentController = Controller(
            name: "deployment-controller", informer: deployments,
            reconciler: DeploymentReconciler(client: client, events: events, logger: logger, wallClock: wallClock),
            workers: configuration.workers, queue: deploymentQueue, runsInformer: false,
            terminalErrors: terminalErrors, logger: logger)
        let namespaceController = Controller(
            name: "namespace-controller", informer: namespaces,
            reconciler: NamespaceReconciler(client: client, logger: logger, wallClock: wallClock),
            workers: configuration.workers, queue: namespaceQueue, runsInformer: false,
            terminalErrors: terminalErrors, logger: logger)
        let serviceAccountController = Controller(
            name: "service-account-controller", informer: namespaces,
            reconciler: ServiceAccountReconciler(client: client, logger: logger),
            workers: configuration.workers, queue: serviceAccountQueue, runsInformer: false,
            terminalErrors: terminalErrors, logger: logger)
        let rootCAPublisher = Controller(
            name: "root-ca-cert-publisher", informer: namespaces,
            reconciler: RootCAPublisher(client: client, certificate: configuration.rootCertificate, logger: self.logger),
            workers: configuration.workers, queue: rootCAQueue, runsInformer: false,
            terminalErrors: terminalErrors, logger: self.logger)
        let nodeLifecycle = NodeLifecycleController(
            client: client, events: events, logger: logger,
            settings: .init(
                gracePeriod: configuration.nodeMonitorGracePeriod, monitorPeriod: configuration.nodeMonitorPeriod, clock: clock,
                wallClock: wallClock),
            nodes: nodes, leases: leases, pods: pods)
        let tracked = [
            TrackedKind(pods, kind: BuiltinKinds.pod), TrackedKind(replicaSets, kind: BuiltinKinds.replicaSet),
            TrackedKind(deployments, kind: BuiltinKinds.deployment),
            TrackedKind(replicationControllers, kind: BuiltinKinds.replicationController),
        ]
        let collector = GarbageCollector(client: client, dependentKinds: tracked.map(\.kind), logger: logger)
        let router = ChangeRouter(
            replicaSets: replicaSets, deployments: deployments, replicationControllers: replicationControllers, tracked: tracked)

        // Subscribed before the informers run, so the first lists are seen too.
        let podChanges = pods.changes()
        let rsChanges = replicaSets.changes()
        let deploymentChanges = deployments.changes()
        let rcChanges = replicationControllers.changes()
        let nodeChanges = nodes.changes()
        let leaseChanges = leases.changes()
        let serviceAccountChanges = serviceAccounts.changes()
        let configuration = self.configuration
        let logger = self.logger

        try await cancelWhenGracefulShutdown {
            try await withTaskCancellationHandler {
                try await withThrowingDiscardingTaskGroup { group in
                    if runsInformers { group.addTask { try await informers.run() } }
                    group.addTask {
                        for await change in podChanges {
                            await nodeLifecycle.wakeup.signal()
                            // A terminating namespace looks again as soon as one of its pods is gone.
                            if case .deleted(let pod) = change, let namespace = pod.metadata.namespace,
                                namespaces.get(ObjectKey(namespace: nil, name: namespace))?.metadata.deletionTimestamp != nil
                            {
                                await namespaceQueue.add(ObjectKey(namespace: nil, name: namespace))
                            }
                            for key in router.replicaSets(for: change) { await rsQueue.add(key) }
                            for key in router.replicationControllers(for: change) { await rcQueue.add(key) }
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
                    group.addTask {
                        for await change in rcChanges {
                            for item in router.collectorItems(for: change, kind: BuiltinKinds.replicationController) { await gcQueue.add(item) }
                        }
                    }
                    group.addTask {
                        for await _ in nodeChanges { await nodeLifecycle.wakeup.signal() }
                    }
                    group.addTask {
                        for await _ in leaseChanges { await nodeLifecycle.wakeup.signal() }
                    }
                    group.addTask {
                        // A deleted `default` account is made again by its namespace's next pass.
                        for await change in serviceAccountChanges {
                            guard case .deleted(let account) = change, account.metadata.name == ServiceAccountReconciler.defaultName,
                                let namespace = account.metadata.namespace
                            else { continue }
                            await serviceAccountQueue.add(ObjectKey(namespace: nil, name: namespace))
                        }
                    }
                    group.addTask { try await rsController.run() }
                    group.addTask { try await deploymentController.run() }
                    group.addTask { try await rcController.run() }
                    group.addTask { try await namespaceController.run() }
                    group.addTask { try await serviceAccountController.run() }
                    group.addTask { try await rootCAPublisher.run() }

                    await pods.waitForSync()
                    await replicaSets.waitForSync()
                    await deployments.waitForSync()
                    await replicationControllers.waitForSync()
                    await nodes.waitForSync()
                    await leases.waitForSync()
                    logger.info(
                        "controllers started",
                        metadata: [
                            "pods": "\(pods.count)", "replicasets": "\(replicaSets.count)", "deployments": "\(deployments.count)",
                            "nodes": "\(nodes.count)",
                        ])
                    group.addTask { await nodeLifecycle.run() }
                    let collectorWorkers = ReconcileWorkers(name: "garbage-collector", queue: gcQueue, logger: logger) { item in
                        try await collector.process(item)
                    }
                    group.addTask { await collectorWorkers.run(workers: configuration.workers) }
                    group.addTask {
                        while !Task.isCancelled {
                            for key in replicaSets.list().map(ObjectKey.init) { await rsQueue.add(key) }
                            for key in replicationControllers.list().map(ObjectKey.init) { await rcQueue.add(key) }
                            for key in deployments.list().map(ObjectKey.init) { await deploymentQueue.add(key) }
                            for key in namespaces.list().filter({ $0.metadata.deletionTimestamp != nil }).map(ObjectKey.init) {
                                await namespaceQueue.add(key)
                            }
                            for key in namespaces.list().map(ObjectKey.init) {
                                await serviceAccountQueue.add(key)
                                await rootCAQueue.add(key)
                            }
                            for item in router.everyDependent() { await gcQueue.add(item) }
                            try? await clock.sleep(for: configuration.resyncInterval)
                        }
                    }
                }
            } onCancel: {
                Task { await gcQueue.shutDown() }
            }
        }
    }

}
