import CapstanAPI
import CapstanClient
import CapstanCore
import Foundation
import Logging

/// Watches node heartbeats and acts when a node goes quiet or not ready, as
/// Kubernetes' node lifecycle and taint eviction controllers do:
///
/// 1. A node whose Lease (`kube-node-lease/<node>`) was not renewed and whose
///    Ready heartbeat did not change for `gracePeriod` gets its Ready,
///    MemoryPressure, DiskPressure and PIDPressure conditions set `Unknown`
///    (`NodeStatusUnknown`, through `nodes/status`).
/// 2. Taints follow the conditions: Ready `False` → `not-ready`, `Unknown` →
///    `unreachable`, each `NoSchedule` and `NoExecute` (pressure conditions
///    and `spec.unschedulable` add their `NoSchedule` taints); when the node
///    is Ready again they go.
/// 3. Pods on a node that is not Ready get their Ready condition set `False`.
/// 4. Pods on a node with `NoExecute` taints they do not tolerate are
///    deleted — at once, after the shortest matching `tolerationSeconds`
///    (counted from when the controller first saw the pod tainted), or never
///    for a toleration without seconds.
///
/// Each pass works from the informer caches and writes only what changed; a
/// conflicting write is left for the next pass, which the changed object
/// triggers. Passes run every `monitorPeriod`, on every node, Lease or pod
/// change, and when the next node would go stale or the next pod's time runs out.
struct NodeLifecycleController: Sendable {
    static let fieldManager = "node-lifecycle-controller"
    static let leaseNamespace = "kube-node-lease"

    struct Settings: Sendable {
        var gracePeriod: Duration
        var monitorPeriod: Duration
        /// What the waits between passes run on.
        var clock: any Clock<Duration>
        /// What heartbeat staleness and toleration seconds are judged by, and taint and condition times written from.
        var wallClock: any WallClock
    }

    let client: any ClusterClient
    let events: EventRecorder
    let logger: Logger
    let settings: Settings
    let nodes: Informer<Node>
    let leases: Informer<Lease>
    let pods: Informer<Pod>
    let wakeup: Wakeup
    private let memory = Memory()

    init(
        client: any ClusterClient, events: EventRecorder, logger: Logger, settings: Settings, nodes: Informer<Node>,
        leases: Informer<Lease>, pods: Informer<Pod>
    ) {
        self.client = client
        self.events = events
        self.logger = logger
        self.settings = settings
        self.nodes = nodes
        self.leases = leases
        self.pods = pods
        self.wakeup = Wakeup(clock: settings.clock)
    }

    var options: WriteOptions { WriteOptions(fieldManager: Self.fieldManager) }

    /// Passes until cancelled. The informers are run by the caller.
    func run() async {
        while !Task.isCancelled {
            let next = await pass()
            var wait = settings.monitorPeriod
            if let next {
                let seconds = max(0, next.timeIntervalSince(settings.wallClock.currentDate))
                wait = min(wait, .milliseconds(Int64(seconds * 1000) + 10))
            }
            await wakeup.wait(upTo: wait)
            // Coalesces bursts of changes (a node's pods all updating) into one
            // pass. Real time on purpose: it only paces the work and decides
            // nothing, and on a test clock it would hold every pass until the
            // test moved time, even one a change asked for.
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// One look at every node and pod; returns when something next falls due
    /// (a node going stale, a pod's toleration running out), if anything does.
    @discardableResult
    func pass() async -> Date? {
        let now = settings.wallClock.currentDate
        let stamp = Timestamps.format(now)
        var nextDue: Date?
        func due(_ date: Date) { nextDue = min(nextDue ?? date, date) }

        var current: [String: Node] = [:]
        let leaseByNode = Dictionary(leases.list().filter { $0.metadata.namespace == Self.leaseNamespace }.map { ($0.metadata.name, $0) }) { a, _ in a
        }
        for cached in nodes.list().sorted(by: { $0.metadata.name < $1.metadata.name }) {
            let name = cached.metadata.name
            let probe = await memory.observe(cached, lease: leaseByNode[name], now: now)
            var node = cached
            let staleAt = probe.probeTime.addingTimeInterval(settings.gracePeriod.timeInterval)
            if now > staleAt {
                if let conditions = NodeHealth.staleConditions(of: node, now: stamp) {
                    node = await writeConditions(conditions, to: node) ?? node
                }
            } else {
                due(staleAt)
            }
            await recordTransition(of: node)
            if let taints = NodeTaints.reconciled(node, now: stamp) {
                node = await writeTaints(taints, to: node) ?? node
            }
            current[name] = node
        }
        await memory.forgetNodes(except: Set(current.keys))

        var podsSeen: Set<String> = []
        for pod in pods.list() {
            guard let nodeName = pod.spec.nodeName, !nodeName.isEmpty, let node = current[nodeName], let uid = pod.metadata.uid else { continue }
            podsSeen.insert(uid)
            if NodeHealth.readiness(of: node) != "True", pod.isReady {
                await markNotReady(pod, stamp: stamp)
            }
            guard pod.metadata.deletionTimestamp == nil else { continue }
            if let deadline = await evictionDeadline(pod, on: node, now: now) {
                if deadline <= now {
                    await evict(pod)
                } else {
                    due(deadline)
                }
            }
        }
        await memory.forgetPods(except: podsSeen)
        return nextDue
    }

    // MARK: Nodes

    private func writeConditions(_ conditions: [Condition], to node: Node) async -> Node? {
        var updated = node
        updated.status.conditions = conditions
        logger.info("node stopped posting status; marking its conditions Unknown", metadata: ["node": "\(node.metadata.name)"])
        return await write(updated, subresource: "status")
    }

    private func writeTaints(_ taints: [Taint], to node: Node) async -> Node? {
        var updated = node
        updated.spec.taints = taints
        logger.debug("updating node taints", metadata: ["node": "\(node.metadata.name)", "taints": "\(taints.map { "\($0.key):\($0.effect)" })"])
        return await write(updated, subresource: nil)
    }

    /// Writes at the cached resourceVersion; nil when that fails (the next pass tries again).
    private func write(_ node: Node, subresource: String?) async -> Node? {
        do {
            let value = try await client.update(
                Node.kindInfo, namespace: nil, name: node.metadata.name, object: node.jsonValue, options: options, subresource: subresource)
            return Node(jsonValue: value)
        } catch {
            logger.debug("node write failed; retrying on the next pass", metadata: ["node": "\(node.metadata.name)", "error": "\(error)"])
            return nil
        }
    }

    /// `NodeNotReady` / `NodeReady` events when the Ready status crosses True.
    private func recordTransition(of node: Node) async {
        let readiness = NodeHealth.readiness(of: node)
        guard let previous = await memory.exchangeReadiness(node.metadata.name, readiness) else { return }
        if previous == "True", readiness != "True" {
            await events.record(node, reason: "NodeNotReady", message: "Node \(node.metadata.name) status is now: NodeNotReady")
        } else if previous != "True", readiness == "True" {
            await events.record(node, reason: "NodeReady", message: "Node \(node.metadata.name) status is now: NodeReady")
        }
    }

    // MARK: Pods

    /// Kubernetes' `MarkPodsNotReady`: the pod's Ready condition turns False.
    private func markNotReady(_ pod: Pod, stamp: String) async {
        var updated = pod
        var conditions = pod.status.conditions
        guard let index = conditions.firstIndex(where: { $0.type == "Ready" }) else { return }
        conditions[index].status = "False"
        conditions[index].lastTransitionTime = stamp
        updated.status.conditions = conditions
        do {
            _ = try await client.update(
                Pod.kindInfo, namespace: pod.metadata.namespace, name: pod.metadata.name, object: updated.jsonValue, options: options,
                subresource: "status")
            await events.record(pod, type: .warning, reason: "NodeNotReady", message: "Node is not ready")
        } catch {
            logger.debug("could not mark pod not ready; retrying on the next pass", metadata: ["pod": "\(ObjectKey(pod))", "error": "\(error)"])
        }
    }

    /// When `pod` must leave `node`: now, a later time, or nil for never.
    private func evictionDeadline(_ pod: Pod, on node: Node, now: Date) async -> Date? {
        guard let uid = pod.metadata.uid else { return nil }
        switch TaintEviction.decide(tolerations: pod.spec.tolerations, taints: node.spec.taints) {
        case .stay, .tolerateForever:
            await memory.forgetTainted(uid)
            return nil
        case .evictNow:
            return now
        case .evictAfter(let seconds):
            // Counted from when this controller first saw the pod on a tainted
            // node, as Kubernetes counts: a pod arriving on a node tainted long
            // ago still gets its full time.
            let firstSeen = await memory.firstSeenTainted(uid, now: now)
            return firstSeen.addingTimeInterval(TimeInterval(seconds))
        }
    }

    /// Deletes the pod gracefully (its node agent, if it comes back, stops it),
    /// after marking why, as Kubernetes' taint eviction does.
    private func evict(_ pod: Pod) async {
        guard let uid = pod.metadata.uid, await memory.startEviction(uid) else { return }
        let key = ObjectKey(pod)
        await events.record(pod, reason: "TaintManagerEviction", message: "Marking for deletion Pod \(key)")
        var marked = pod
        var conditions = pod.status.conditions.filter { $0.type != "DisruptionTarget" }
        var disruption = Condition(
            type: "DisruptionTarget", status: true, reason: "DeletionByTaintManager", message: "Taint manager: deleting due to NoExecute taint")
        disruption.lastTransitionTime = Timestamps.format(settings.wallClock.currentDate)
        conditions.append(disruption)
        marked.status.conditions = conditions
        _ = try? await client.update(
            Pod.kindInfo, namespace: pod.metadata.namespace, name: pod.metadata.name, object: marked.jsonValue, options: options,
            subresource: "status")
        do {
            try await client.deleteIfPresent(Pod.kindInfo, namespace: pod.metadata.namespace, name: pod.metadata.name, uid: uid)
            logger.info("evicted pod from a tainted node", metadata: ["pod": "\(key)", "node": "\(pod.spec.nodeName ?? "")"])
        } catch {
            await memory.abandonEviction(uid)
            logger.warning("could not evict pod; retrying on the next pass", metadata: ["pod": "\(key)", "error": "\(error)"])
        }
    }

    /// What the controller remembers between passes.
    private actor Memory {
        var probes: [String: NodeProbe] = [:]
        var readiness: [String: String] = [:]
        var firstTainted: [String: Date] = [:]
        var evicted: Set<String> = []

        func observe(_ node: Node, lease: Lease?, now: Date) -> NodeProbe {
            let probe = NodeProbe.observe(node, lease: lease, previous: probes[node.metadata.name], now: now)
            probes[node.metadata.name] = probe
            return probe
        }

        /// The readiness last seen (nil the first time), replaced by `new`.
        func exchangeReadiness(_ node: String, _ new: String) -> String? {
            defer { readiness[node] = new }
            return readiness[node]
        }

        func forgetNodes(except names: Set<String>) {
            probes = probes.filter { names.contains($0.key) }
            readiness = readiness.filter { names.contains($0.key) }
        }

        func firstSeenTainted(_ uid: String, now: Date) -> Date {
            if let seen = firstTainted[uid] { return seen }
            firstTainted[uid] = now
            return now
        }

        func forgetTainted(_ uid: String) { firstTainted.removeValue(forKey: uid) }

        /// False when this pod's eviction already started (one event, one delete).
        func startEviction(_ uid: String) -> Bool { evicted.insert(uid).inserted }

        func abandonEviction(_ uid: String) { evicted.remove(uid) }

        func forgetPods(except uids: Set<String>) {
            firstTainted = firstTainted.filter { uids.contains($0.key) }
            evicted.formIntersection(uids)
        }
    }
}

extension Duration {
    /// The duration in seconds, fractions included.
    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
