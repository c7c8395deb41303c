public import CapstanAPI
public import CapstanClient
import CapstanCore
import Foundation
public import Logging
import OrderedCollections
public import ServiceLifecycle

/// The scheduler as a long-running service: watches pods and nodes through
/// informers, places pending pods one at a time, and binds them through
/// `pods/binding`.
///
/// A pod is ours when `spec.nodeName` is empty and `spec.schedulerName` is
/// the configured name (or empty). After a decision the pod is assumed on its
/// node in the local snapshot, so the next decision counts it before the
/// binding comes back through the watch. A pod that fits nowhere gets a
/// `FailedScheduling` event and a `PodScheduled=False` (`Unschedulable`)
/// condition, and waits until a node or an assigned pod changes — or, at the
/// latest, for the periodic flush.
///
/// Wiring: `Scheduler(client: InProcessClient(registry: apiServer.registry), configuration: .init(), logger: logger)`
/// in the same `ServiceGroup` as the API server.
public struct Scheduler: ServiceLifecycle.Service {
    public let configuration: SchedulerConfiguration
    let client: any ClusterClient
    let events: EventRecorder
    let sharedInformers: SharedInformerFactory?
    let logger: Logger

    /// - Parameters:
    ///   - events: where events go; by default core/v1 Events written through `client`.
    ///   - informers: the process's shared informers, run by the caller; nil to
    ///     make and run a factory of the scheduler's own.
    public init(
        client: any ClusterClient, configuration: SchedulerConfiguration = SchedulerConfiguration(), logger: Logger,
        events: (EventRecorder)? = nil, informers: SharedInformerFactory? = nil
    ) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
        self.sharedInformers = informers
        self.events =
            events
            ?? EventRecorder(
                client: client, component: configuration.schedulerName, logger: logger,
                now: { [wallClock = configuration.wallClock] in wallClock.currentDate })
    }

    public func run() async throws {
        let clock = configuration.clock
        let informers = sharedInformers ?? SharedInformerFactory(client: client, clock: clock, logger: logger)
        let runsInformers = sharedInformers == nil
        let pods = informers.informer(Pod.self, kind: BuiltinKinds.pod)
        let nodes = informers.informer(Node.self, kind: BuiltinKinds.node)
        let cache = SchedulerCache(configuration: configuration)
        let queue = WorkQueue<ObjectKey>(
            rateLimiter: RateLimiter(baseDelay: configuration.initialBackoff, maxDelay: configuration.maxBackoff, ratePerSecond: 0, clock: clock),
            clock: clock)
        let podChanges = pods.changes()
        let nodeChanges = nodes.changes()
        let configuration = self.configuration

        try await cancelWhenGracefulShutdown {
            try await withTaskCancellationHandler {
                try await withThrowingDiscardingTaskGroup { group in
                    if runsInformers { group.addTask { try await informers.run() } }
                    group.addTask {
                        for await change in nodeChanges {
                            guard await cache.apply(change) else { continue }
                            for key in await cache.takeAllUnschedulable() { await queue.add(key) }
                        }
                    }
                    group.addTask {
                        for await change in podChanges { await handle(change, cache: cache, queue: queue) }
                    }
                    group.addTask {
                        // The periodic flush: pods that waited long enough try again even if nothing changed.
                        while true {
                            try? await clock.sleep(for: configuration.unschedulableFlushInterval)
                            if Task.isCancelled { return }
                            for key in await cache.takeUnschedulable(olderThan: configuration.unschedulableMaxWait) { await queue.add(key) }
                        }
                    }
                    await pods.waitForSync()
                    await nodes.waitForSync()
                    logger.info(
                        "scheduler started",
                        metadata: ["nodes": "\(nodes.count)", "pods": "\(pods.count)", "strategy": "\(configuration.scoringStrategy.rawValue)"])
                    // One worker: each decision must see the one before it assumed.
                    let workers = ReconcileWorkers(name: "scheduler", queue: queue, logger: logger) { key in
                        try await scheduleOne(key, pods: pods, cache: cache)
                    }
                    group.addTask { await workers.run(workers: 1) }
                }
            } onCancel: {
                Task { await queue.shutDown() }
            }
        }
    }

    /// Whether this scheduler places `pod`.
    func isPending(_ pod: Pod) -> Bool {
        let name = pod.spec.json["schedulerName"]?.stringValue ?? ""
        return (pod.spec.nodeName ?? "").isEmpty && (name.isEmpty || name == configuration.schedulerName)
            && pod.metadata.deletionTimestamp == nil
            && pod.status.phase != "Succeeded" && pod.status.phase != "Failed"
    }

    private func handle(_ change: InformerChange<Pod>, cache: SchedulerCache, queue: WorkQueue<ObjectKey>) async {
        let key = change.key
        var clusterChanged = false
        switch change {
        case .updated(let old, let pod) where isPending(pod) && old.spec == pod.spec && old.metadata.labels == pod.metadata.labels:
            // Only status or bookkeeping changed (often our own PodScheduled
            // condition): a waiting pod keeps waiting for the cluster to change.
            if await !cache.isUnschedulable(key) { await queue.add(key) }
        case .added(let pod), .updated(_, let pod):
            if !(pod.spec.nodeName ?? "").isEmpty {
                await cache.removeUnschedulable(key)
                clusterChanged = await cache.applyAssigned(pod, removedKey: nil)
            } else if isPending(pod) {
                await queue.add(key)
            }
        case .deleted(let pod):
            await cache.removeUnschedulable(key)
            clusterChanged = await cache.applyAssigned(nil, removedKey: "\(pod.metadata.namespace ?? "default")/\(pod.metadata.name)")
        }
        if clusterChanged {
            for waiting in await cache.takeAllUnschedulable() { await queue.add(waiting) }
        }
    }

    /// One scheduling cycle for one pod, then its binding; a failed binding
    /// throws, so the runner retries the pod with backoff.
    private func scheduleOne(_ key: ObjectKey, pods: Informer<Pod>, cache: SchedulerCache) async throws -> ReconcileResult {
        // Re-read: the pod may have been bound, deleted or changed while queued.
        guard let pod = pods.get(key), isPending(pod) else { return .done }
        let info = PodInfo(pod)
        if await cache.isPlaced(info.key) { return .done }  // assumed; its binding is on its way
        switch await cache.schedule(info) {
        case .success(let result):
            await cache.assume(info, on: result.nodeName)
            do {
                try await client.bind(
                    podNamespace: info.namespace, name: info.name, node: result.nodeName,
                    options: WriteOptions(fieldManager: configuration.fieldManager))
                logger.debug(
                    "bound pod",
                    metadata: [
                        "pod": "\(key)", "node": "\(result.nodeName)", "feasible": "\(result.feasibleNodes)", "evaluated": "\(result.evaluatedNodes)",
                    ])
                await events.record(pod, reason: "Scheduled", message: "Successfully assigned \(key) to \(result.nodeName)")
                return .done
            } catch {
                await cache.forget(info)
                if let apiError = error as? APIError, apiError.code == 404 { return .done }  // deleted meanwhile
                if let apiError = error as? APIError, apiError.code == 409, apiError.message.contains("already assigned") { return .done }
                logger.warning("binding failed; retrying", metadata: ["pod": "\(key)", "node": "\(result.nodeName)", "error": "\(error)"])
                throw error
            }
        case .failure(let fitError):
            // Not an error to retry: the pod waits for the cluster to change (or the periodic flush).
            await cache.markUnschedulable(key)
            logger.info("pod is unschedulable", metadata: ["pod": "\(key)", "reason": "\(fitError.message)"])
            await events.record(pod, type: .warning, reason: "FailedScheduling", message: fitError.message)
            await setUnschedulableCondition(pod, message: fitError.message)
            return .done
        }
    }

    /// `status.conditions[type=PodScheduled]` = False / Unschedulable, as kube-scheduler writes it.
    private func setUnschedulableCondition(_ pod: Pod, message: String) async {
        if let existing = pod.status.conditions.first(where: { $0.type == "PodScheduled" }),
            existing.status == "False", existing.reason == "Unschedulable", existing.message == message
        {
            return
        }
        let condition = Condition(
            type: "PodScheduled", status: false, reason: "Unschedulable", message: message, time: KubeTime.format(configuration.wallClock.currentDate)
        )
        let patch: JSONValue = ["status": ["conditions": [.object(condition.json)]]]
        do {
            _ = try await client.patch(
                BuiltinKinds.pod, namespace: pod.metadata.namespace, name: pod.metadata.name, patch: .strategic(patch),
                options: WriteOptions(fieldManager: configuration.fieldManager), subresource: "status")
        } catch {
            logger.warning("could not set the PodScheduled condition", metadata: ["pod": "\(ObjectKey(pod))", "error": "\(error)"])
        }
    }
}
