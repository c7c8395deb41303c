import CapstanClient
import CapstanCore

/// The scheduler's state between cycles: the cluster snapshot (with pods
/// assumed on their chosen node before the binding is confirmed), the
/// algorithm's round-robin position, and the pods waiting for the cluster to change.
actor SchedulerCache {
    private var snapshot = ClusterSnapshot()
    private var algorithm: SchedulingAlgorithm
    /// Pods placed in the snapshot before their binding shows up in the informer.
    private var assumed: Set<String> = []
    /// Unschedulable pods and when they were last tried, as readings of `timeline`.
    private var unschedulable: [ObjectKey: Duration] = [:]
    private let timeline: ClockTimeline

    init(configuration: SchedulerConfiguration) {
        algorithm = SchedulingAlgorithm(configuration: configuration)
        timeline = ClockTimeline(clock: configuration.clock)
    }

    func schedule(_ pod: PodInfo) -> Result<ScheduleResult, FitError> {
        algorithm.schedule(pod, in: snapshot)
    }

    // MARK: Nodes

    /// Applies a node change; true when it could make a waiting pod fit.
    func apply(_ change: InformerChange<Node>) -> Bool {
        switch change {
        case .added(let node):
            snapshot.upsertNode(NodeInfo(node))
            return true
        case .updated(let old, let new):
            let before = NodeInfo(old)
            let after = NodeInfo(new)
            snapshot.upsertNode(after)
            return Self.schedulingRelevantChange(before, after)
        case .deleted(let node):
            snapshot.removeNode(named: node.metadata.name)
            return false
        }
    }

    /// Heartbeats and status noise do not wake unschedulable pods; capacity, labels, taints and readiness do.
    static func schedulingRelevantChange(_ old: NodeInfo, _ new: NodeInfo) -> Bool {
        old.labels != new.labels || old.taints != new.taints || old.unschedulable != new.unschedulable
            || old.readiness != new.readiness || old.allocatable != new.allocatable || old.allowedPodCount != new.allowedPodCount
            || old.images != new.images
    }

    // MARK: Pods

    /// Applies a change to a pod on a node (bound, or gone); true when it could make a waiting pod fit.
    func applyAssigned(_ pod: Pod?, removedKey: String?) -> Bool {
        if let pod {
            let info = PodInfo(pod)
            assumed.remove(info.key)
            let terminal = pod.status.phase == "Succeeded" || pod.status.phase == "Failed"
            if terminal {
                // Finished pods hold no resources.
                let had = snapshot.contains(podKey: info.key)
                snapshot.removePod(key: info.key)
                return had
            }
            let isNew = !snapshot.contains(podKey: info.key)
            snapshot.addPod(info)
            return isNew
        }
        if let removedKey {
            assumed.remove(removedKey)
            let had = snapshot.contains(podKey: removedKey)
            snapshot.removePod(key: removedKey)
            return had
        }
        return false
    }

    /// Places a pod on its chosen node before the binding is confirmed, so the
    /// next cycle already counts its requests.
    func assume(_ pod: PodInfo, on node: String) {
        var placed = pod
        placed.nodeName = node
        snapshot.addPod(placed)
        assumed.insert(pod.key)
        unschedulable.removeValue(forKey: ObjectKey(namespace: pod.namespace, name: pod.name))
    }

    /// Takes back an assumption whose binding failed.
    func forget(_ pod: PodInfo) {
        guard assumed.remove(pod.key) != nil else { return }
        snapshot.removePod(key: pod.key)
    }

    func isPlaced(_ key: String) -> Bool { snapshot.contains(podKey: key) }

    // MARK: Unschedulable pods

    func markUnschedulable(_ key: ObjectKey) {
        unschedulable[key] = timeline.now
    }

    func isUnschedulable(_ key: ObjectKey) -> Bool { unschedulable[key] != nil }

    func removeUnschedulable(_ key: ObjectKey) {
        unschedulable.removeValue(forKey: key)
    }

    /// Every waiting pod (the cluster changed in a way that may help them).
    func takeAllUnschedulable() -> [ObjectKey] {
        let keys = Array(unschedulable.keys)
        unschedulable.removeAll()
        return keys
    }

    /// Pods that have waited at least `age` (the periodic flush).
    func takeUnschedulable(olderThan age: Duration) -> [ObjectKey] {
        let cutoff = timeline.now - age
        let keys = unschedulable.filter { $0.value <= cutoff }.map(\.key)
        for key in keys { unschedulable.removeValue(forKey: key) }
        return keys
    }

    var unschedulableCount: Int { unschedulable.count }
    var nodeCount: Int { snapshot.nodeCount }
}
