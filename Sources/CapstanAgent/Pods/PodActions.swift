import CRIAPI
import CapstanCore
import Foundation

/// What one sync of a pod must do, decided from the pod, what the runtime
/// holds for it, the restart back-off and the probe results — the kubelet's
/// `computePodActions`. Pure: no I/O, no clock but the `now` it is given, so
/// every rule is a table row in a unit test. ``PodSyncer`` carries the actions
/// out through the CRI runtime.
struct PodActions: Equatable, Sendable {
    enum Step: Equatable, Sendable {
        /// The pod has a deletion timestamp: its grace period, then everything goes.
        case finishDeletion
        /// Succeeded or Failed: stop what still runs; nothing starts again.
        case stopFinishedPod
        /// No ready sandbox, and its containers ran and its restart policy does not run them
        /// again (a Job's pod after a reboot): the status stays what they ended with.
        case keepAsEnded
        /// No ready sandbox: make one (the `attempt`th); stop what still runs first.
        case createSandbox(attempt: UInt32, stopRunningFirst: Bool)
        /// The sandbox is ready: bring its containers in line.
        case syncContainers(ContainerActions)
    }

    var step: Step

    /// Why a failing probe counts, from the executor's probe results for the running instance.
    struct ProbeFailure: Equatable, Sendable {
        var kind: ProbeManager.Kind
        var message: String
    }

    /// Decides the step for `pod` given the runtime's `state`.
    ///
    /// - Parameters:
    ///   - backoff: the crash-loop back-off; read, never changed here.
    ///   - failedProbes: by container name, a failed startup or liveness probe of its running instance.
    ///   - now: the wall-clock time the back-off is measured against.
    static func compute(pod: Pod, state: PodRuntimeState, backoff: RestartBackoff, failedProbes: [String: ProbeFailure], now: Date) -> PodActions {
        if pod.metadata.deletionTimestamp != nil { return PodActions(step: .finishDeletion) }
        if ["Succeeded", "Failed"].contains(pod.status.phase ?? "") { return PodActions(step: .stopFinishedPod) }
        guard state.readySandbox != nil else {
            guard needsNewSandbox(pod, state) else { return PodActions(step: .keepAsEnded) }
            return PodActions(step: .createSandbox(attempt: UInt32(state.sandboxes.count), stopRunningFirst: !state.running.isEmpty))
        }
        return PodActions(
            step: .syncContainers(ContainerActions.compute(pod: pod, state: state, backoff: backoff, failedProbes: failedProbes, now: now)))
    }

    /// The kubelet's rule for a pod whose sandbox is gone: a new one unless its containers
    /// already ran and the restart policy would not run them again.
    static func needsNewSandbox(_ pod: Pod, _ state: PodRuntimeState) -> Bool {
        let ran = pod.spec.containers.compactMap { state.latest($0.name) }
        guard !ran.isEmpty else { return true }
        switch pod.spec.restartPolicy {
        case "Never": return false
        case "OnFailure":
            return !(ran.count == pod.spec.containers.count && ran.allSatisfy { $0.state == .containerExited && $0.status.exitCode == 0 })
        default: return true
        }
    }

    static func shouldRestart(policy: String, exitCode: Int32) -> Bool {
        switch policy {
        case "Always": true
        case "OnFailure": exitCode != 0
        default: false
        }
    }
}

/// The container steps of one sync in a ready sandbox: init containers one at a
/// time, each to a successful exit, then every container; restarts after the
/// back-off; kills for a changed spec or a failed probe.
struct ContainerActions: Equatable, Sendable {
    struct Start: Equatable, Sendable {
        var name: String
        var isInit: Bool
        var restartCount: Int
        /// The instance this one replaces; a restart (not a first start) advances the back-off.
        var previousID: String?
    }

    struct Kill: Equatable, Sendable {
        enum Cause: Equatable, Sendable {
            case definitionChanged
            case probeFailed(PodActions.ProbeFailure)
        }

        var name: String
        var id: String
        var cause: Cause

        /// The Killing event's message, as the kubelet words it.
        var message: String {
            switch cause {
            case .definitionChanged: "Container \(name) definition changed, will be restarted"
            case .probeFailed(let failure): "Container \(name) failed \(failure.kind.rawValue) probe, will be restarted"
            }
        }
    }

    /// Containers to create and start, in this order.
    var start: [Start] = []
    /// Running containers to stop (they restart on a later sync).
    var kill: [Kill] = []
    /// Containers created but never started (the agent stopped in between): start them now.
    var resume: [String] = []
    /// Containers waiting out the crash-loop back-off, with their waiting state.
    var waiting: [String: ContainerWaiting] = [:]
    /// When the soonest back-off ends.
    var backoffEnds: Duration?

    static func compute(pod: Pod, state: PodRuntimeState, backoff: RestartBackoff, failedProbes: [String: PodActions.ProbeFailure], now: Date)
        -> ContainerActions
    {
        var actions = ContainerActions()
        let uid = pod.metadata.uid ?? ""
        func backoffWait(_ name: String, _ latest: RuntimeContainer) -> Bool {
            let key = RestartBackoff.key(podUID: uid, container: name)
            guard let remaining = backoff.remaining(key, finishedAt: PodStatusBuilder.date(latest.status.finishedAt), now: now) else { return false }
            let delay = backoff.delay(key)
            let message =
                "back-off \(delay.components.seconds)s restarting failed container=\(name) pod=\(pod.metadata.name)_\(pod.metadata.namespace ?? "default")(\(uid))"
            actions.waiting[name] = ContainerWaiting(reason: "CrashLoopBackOff", message: message)
            actions.backoffEnds = min(actions.backoffEnds ?? remaining, remaining)
            return true
        }

        // Init containers, one at a time, each to a successful exit.
        var initialized = true
        for container in pod.spec.initContainers {
            let latest = state.latest(container.name)
            if let latest, latest.state == .containerExited, latest.status.exitCode == 0 { continue }
            initialized = false
            if let latest, latest.state == .containerRunning { break }
            if let latest, latest.state == .containerExited {
                if pod.spec.restartPolicy == "Never" { break }
                if backoffWait(container.name, latest) { break }
            }
            actions.start.append(
                Start(name: container.name, isInit: true, restartCount: latest.map { $0.restartCount + 1 } ?? 0, previousID: latest?.id))
            break
        }
        guard initialized else { return actions }

        for container in pod.spec.containers {
            guard let latest = state.latest(container.name) else {
                actions.start.append(Start(name: container.name, isInit: false, restartCount: 0, previousID: nil))
                continue
            }
            switch latest.state {
            case .containerRunning:
                if let hash = latest.summary.annotations[RuntimeLabels.containerHash], hash != RuntimeConfigBuilder.hash(container) {
                    actions.kill.append(Kill(name: container.name, id: latest.id, cause: .definitionChanged))
                } else if let failure = failedProbes[container.name] {
                    actions.kill.append(Kill(name: container.name, id: latest.id, cause: .probeFailed(failure)))
                }
            case .containerExited:
                guard PodActions.shouldRestart(policy: pod.spec.restartPolicy, exitCode: latest.status.exitCode) else { continue }
                if backoffWait(container.name, latest) { continue }
                actions.start.append(Start(name: container.name, isInit: false, restartCount: latest.restartCount + 1, previousID: latest.id))
            default:
                actions.resume.append(latest.id)
            }
        }
        return actions
    }
}
