import CapstanCore

/// The arithmetic of a rolling update, as Kubernetes' `deployment/util`:
/// pure functions over replica counts, tested on their own.
enum RolloutMath {
    /// maxSurge and maxUnavailable as counts for `replicas`: surge rounds up,
    /// unavailable rounds down, and both zero would deadlock, so unavailable becomes 1.
    static func fenceposts(_ strategy: DeploymentStrategy, replicas: Int64) -> (surge: Int64, unavailable: Int64) {
        let rolling = strategy.rollingUpdate
        let surge = max(0, rolling.maxSurge.scaled(total: replicas, roundUp: true) ?? 0)
        var unavailable = max(0, rolling.maxUnavailable.scaled(total: replicas, roundUp: false) ?? 0)
        if surge == 0, unavailable == 0 { unavailable = 1 }
        return (surge, min(unavailable, replicas))
    }

    /// The new ReplicaSet's next size: grow while the total stays within replicas + maxSurge.
    static func newReplicaSetSize(desired: Int64, surge: Int64, newReplicas: Int64, totalReplicas: Int64) -> Int64 {
        let maxTotal = desired + surge
        guard totalReplicas < maxTotal else { return newReplicas }
        let scaleUp = min(maxTotal - totalReplicas, desired - newReplicas)
        return newReplicas + max(0, scaleUp)
    }

    /// How many old pods may go now without dropping below replicas − maxUnavailable
    /// available, not counting new pods that are not available yet.
    static func maxScaleDown(desired: Int64, unavailable: Int64, totalReplicas: Int64, newReplicas: Int64, newAvailable: Int64) -> Int64 {
        let minAvailable = desired - unavailable
        let newUnavailable = max(0, newReplicas - newAvailable)
        return totalReplicas - minAvailable - newUnavailable
    }
}

/// One ReplicaSet as a rollout sees it.
extension ReplicaSet {
    var replicas: Int64 { spec.replicas }
    var revision: Int64 { Int64(metadata.annotations[DeploymentAnnotations.revision] ?? "") ?? 0 }
}

enum DeploymentAnnotations {
    static let revision = "deployment.kubernetes.io/revision"
    static let revisionHistory = "deployment.kubernetes.io/revision-history"
    static let desiredReplicas = "deployment.kubernetes.io/desired-replicas"
    static let maxReplicas = "deployment.kubernetes.io/max-replicas"
    /// Deployment annotations that are not copied to its ReplicaSets.
    static let notCopied: Set<String> = [
        revision, revisionHistory, desiredReplicas, maxReplicas,
        "kubectl.kubernetes.io/last-applied-configuration", "deprecated.deployment.rollback.to",
    ]
}
