import CapstanCore
import Foundation
import OrderedCollections

/// A Deployment's status and conditions from its ReplicaSets, as Kubernetes'
/// `calculateStatus` and `syncRolloutStatus`. Pure: the reconciler writes the result.
enum DeploymentStatusCalculator {
    static let progressing = "Progressing"
    static let available = "Available"
    static let timedOutReason = "ProgressDeadlineExceeded"
    static let newRSAvailableReason = "NewReplicaSetAvailable"

    /// Counts and the Available condition.
    static func status(of deployment: Deployment, newRS: ReplicaSet?, all: [ReplicaSet], now: Date) -> WorkloadStatus {
        let spec = deployment.spec
        var status = deployment.status
        status.observedGeneration = deployment.metadata.generation
        status.replicas = all.reduce(0) { $0 + $1.status.replicas }
        status.updatedReplicas = newRS?.status.replicas ?? 0
        status.readyReplicas = all.reduce(0) { $0 + $1.status.readyReplicas }
        status.availableReplicas = all.reduce(0) { $0 + $1.status.availableReplicas }
        let specTotal = all.reduce(0) { $0 + $1.replicas }
        status.unavailableReplicas = max(0, specTotal - status.availableReplicas)
        let maxUnavailable = spec.strategy.type == "Recreate" ? 0 : RolloutMath.fenceposts(spec.strategy, replicas: spec.replicas).unavailable
        if status.availableReplicas >= spec.replicas - maxUnavailable {
            set(&status, available, true, "MinimumReplicasAvailable", "Deployment has minimum availability.", now: now)
        } else {
            set(&status, available, false, "MinimumReplicasUnavailable", "Deployment does not have minimum availability.", now: now)
        }
        return status
    }

    /// Whether the rollout is done: every replica updated and available, and the spec observed.
    static func isComplete(_ deployment: Deployment, _ status: WorkloadStatus) -> Bool {
        let replicas = deployment.spec.replicas
        return status.updatedReplicas == replicas && status.replicas == replicas && status.availableReplicas == replicas
            && (status.observedGeneration ?? 0) >= (deployment.metadata.generation ?? 0)
    }

    /// The Progressing condition after this pass: complete, progressing (any
    /// count moved forward since the last status), or timed out after
    /// `progressDeadlineSeconds` without progress.
    static func updateProgress(_ status: inout WorkloadStatus, deployment: Deployment, newRS: ReplicaSet?, now: Date) {
        let old = deployment.status
        let name = newRS?.metadata.name ?? ""
        let current = condition(status, progressing)
        if isComplete(deployment, status) {
            let message = newRS == nil ? "Deployment has successfully progressed." : "ReplicaSet \"\(name)\" has successfully progressed."
            set(&status, progressing, true, newRSAvailableReason, message, now: now)
        } else if status.updatedReplicas > old.updatedReplicas
            || status.replicas - status.updatedReplicas < old.replicas - old.updatedReplicas
            || status.readyReplicas > old.readyReplicas || status.availableReplicas > old.availableReplicas
        {
            var fresh = Condition(
                type: progressing, status: true, reason: "ReplicaSetUpdated", message: "ReplicaSet \"\(name)\" is progressing.",
                time: Timestamps.format(now))
            fresh.json["lastUpdateTime"] = .string(Timestamps.format(now))
            if let current, current.isTrue, let since = current.lastTransitionTime { fresh.lastTransitionTime = since }
            replace(&status, fresh)
        } else if isTimedOut(status, deployment: deployment, now: now) {
            set(&status, progressing, false, timedOutReason, "ReplicaSet \"\(name)\" has timed out progressing.", now: now)
        }
    }

    static func isTimedOut(_ status: WorkloadStatus, deployment: Deployment, now: Date) -> Bool {
        guard let current = condition(status, progressing), current.reason != newRSAvailableReason else { return false }
        if current.reason == timedOutReason { return true }
        guard let from = Timestamps.parse(current.json["lastUpdateTime"]?.stringValue ?? current.lastTransitionTime) else { return false }
        return from.addingTimeInterval(TimeInterval(deployment.spec.progressDeadlineSeconds)) < now
    }

    /// How long until a stalled rollout reaches its deadline; nil when it is not waiting on one.
    static func timeUntilDeadline(_ status: WorkloadStatus, deployment: Deployment, now: Date) -> TimeInterval? {
        guard !deployment.spec.paused, !isComplete(deployment, status), !isTimedOut(status, deployment: deployment, now: now),
            let current = condition(status, progressing),
            let from = Timestamps.parse(current.json["lastUpdateTime"]?.stringValue ?? current.lastTransitionTime)
        else { return nil }
        return max(0, from.addingTimeInterval(TimeInterval(deployment.spec.progressDeadlineSeconds)).timeIntervalSince(now))
    }

    /// `DeploymentPaused` / `DeploymentResumed`, unless the rollout already timed out.
    static func updatePause(_ status: inout WorkloadStatus, deployment: Deployment, now: Date) {
        let current = condition(status, progressing)
        if current?.reason == timedOutReason { return }
        let pausedShown = current?.reason == "DeploymentPaused"
        if deployment.spec.paused, !pausedShown {
            set(&status, progressing, nil, "DeploymentPaused", "Deployment is paused", now: now)
        } else if !deployment.spec.paused, pausedShown {
            set(&status, progressing, nil, "DeploymentResumed", "Deployment is resumed", now: now)
        }
    }

    static func condition(_ status: WorkloadStatus, _ type: String) -> Condition? {
        status.conditions.first { $0.type == type }
    }

    /// Sets a condition; an unchanged status and reason keep the existing one
    /// (times included), as Kubernetes' `SetDeploymentCondition`. nil status is `Unknown`.
    static func set(_ status: inout WorkloadStatus, _ type: String, _ value: Bool?, _ reason: String, _ message: String, now: Date) {
        let text = value.map { $0 ? "True" : "False" } ?? "Unknown"
        if let current = condition(status, type), current.status == text, current.reason == reason { return }
        var fresh = Condition(type: type, status: value ?? false, reason: reason, message: message, time: Timestamps.format(now))
        fresh.status = text
        fresh.json["lastUpdateTime"] = .string(Timestamps.format(now))
        replace(&status, fresh)
    }

    static func replace(_ status: inout WorkloadStatus, _ condition: Condition) {
        var conditions = status.conditions
        if let index = conditions.firstIndex(where: { $0.type == condition.type }) {
            conditions[index] = condition
        } else {
            conditions.append(condition)
        }
        status.conditions = conditions
    }
}
