import CapstanCore
import Foundation

/// What controllers read from a pod's status, with Kubernetes' meanings.
extension Pod {
    /// Not finished and not being deleted: counts towards a ReplicaSet's replicas.
    var isActive: Bool {
        status.phase != "Succeeded" && status.phase != "Failed" && metadata.deletionTimestamp == nil
    }

    var readyCondition: Condition? { status.conditions.first { $0.type == "Ready" } }

    var isReady: Bool { readyCondition?.isTrue ?? false }

    /// Ready for at least `minReadySeconds` at `now`.
    func isAvailable(minReadySeconds: Int64, now: Date) -> Bool {
        guard isReady else { return false }
        guard minReadySeconds > 0 else { return true }
        guard let since = Timestamps.parse(readyCondition?.lastTransitionTime) else { return false }
        return since.addingTimeInterval(TimeInterval(minReadySeconds)) <= now
    }

    /// How long until a ready pod becomes available; nil when it already is or is not ready.
    func timeUntilAvailable(minReadySeconds: Int64, now: Date) -> TimeInterval? {
        guard isReady, minReadySeconds > 0, let since = Timestamps.parse(readyCondition?.lastTransitionTime) else { return nil }
        let remaining = since.addingTimeInterval(TimeInterval(minReadySeconds)).timeIntervalSince(now)
        return remaining > 0 ? remaining : nil
    }
}

/// The order in which a ReplicaSet gives up pods when it has too many, as
/// Kubernetes' `ActivePods` sort: the least useful first.
enum PodDeletionOrder {
    /// Whether `a` should be deleted before `b`.
    static func before(_ a: Pod, _ b: Pod) -> Bool {
        // 1. Not yet scheduled before scheduled.
        let aAssigned = !(a.spec.nodeName ?? "").isEmpty
        let bAssigned = !(b.spec.nodeName ?? "").isEmpty
        if aAssigned != bAssigned { return !aAssigned }
        // 2. Pending < Unknown < Running.
        let aPhase = phaseRank(a.status.phase)
        let bPhase = phaseRank(b.status.phase)
        if aPhase != bPhase { return aPhase < bPhase }
        // 3. Not ready before ready.
        if a.isReady != b.isReady { return !a.isReady }
        // 4. Ready for a shorter time before longer.
        if a.isReady, b.isReady {
            let aSince = Timestamps.parse(a.readyCondition?.lastTransitionTime)
            let bSince = Timestamps.parse(b.readyCondition?.lastTransitionTime)
            if let aSince, let bSince, aSince != bSince { return aSince > bSince }
        }
        // 5. More restarts before fewer.
        let aRestarts = a.status.containerStatuses.map(\.restartCount).max() ?? 0
        let bRestarts = b.status.containerStatuses.map(\.restartCount).max() ?? 0
        if aRestarts != bRestarts { return aRestarts > bRestarts }
        // 6. Newer before older.
        let aCreated = a.metadata.creationTimestamp ?? ""
        let bCreated = b.metadata.creationTimestamp ?? ""
        if aCreated != bCreated { return aCreated > bCreated }
        return a.metadata.name > b.metadata.name
    }

    static func phaseRank(_ phase: String?) -> Int {
        switch phase {
        case "Running": 2
        case "Unknown": 1
        default: 0
        }
    }
}
