import CapstanCore
import Foundation
import OrderedCollections

/// A ReplicaSet's status from the pods it controls, as Kubernetes' `calculateStatus`.
enum ReplicaSetStatusCalculator {
    static func status(of replicaSet: ReplicaSet, pods: [Pod], now: Date) -> WorkloadStatus {
        let templateLabels = replicaSet.spec.template.metadata.labels
        let minReady = replicaSet.spec.minReadySeconds
        var status = replicaSet.status
        status.replicas = Int64(pods.count)
        status.json["fullyLabeledReplicas"] = .int(
            Int64(
                pods.filter { pod in
                    let labels = pod.metadata.labels
                    return templateLabels.allSatisfy { labels[$0.key] == $0.value }
                }.count))
        status.readyReplicas = Int64(pods.filter(\.isReady).count)
        status.availableReplicas = Int64(pods.filter { $0.isAvailable(minReadySeconds: minReady, now: now) }.count)
        status.observedGeneration = replicaSet.metadata.generation
        return status
    }

    /// When the next pod becomes available by waiting out `minReadySeconds` alone.
    static func nextAvailability(of replicaSet: ReplicaSet, pods: [Pod], now: Date) -> TimeInterval? {
        pods.compactMap { $0.timeUntilAvailable(minReadySeconds: replicaSet.spec.minReadySeconds, now: now) }.min()
    }
}
