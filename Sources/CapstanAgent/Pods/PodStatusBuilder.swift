import CRIAPI
import CapstanClient
import CapstanCore
import Foundation
import OrderedCollections

/// Why a container is not running yet, as the sync found it: image pull
/// errors, configuration errors, crash-loop back-off.
struct ContainerWaiting: Sendable, Equatable {
    var reason: String
    var message: String
}

/// The pod status the agent reports, from the runtime's view of the pod and
/// the probes: container states, phase and conditions as the kubelet computes
/// them (`getPhase`, `generateAPIPodStatus`). Pure, unit-tested rule by rule.
struct PodStatusBuilder {
    var pod: Pod
    var state: PodRuntimeState
    var hostIP: String
    var runtimeName: String
    var waiting: [String: ContainerWaiting] = [:]
    /// Probe results by container name and kind; a missing entry means "no result yet".
    var probes: [String: [ProbeManager.Kind: Bool]] = [:]
    var now: Date

    func status() -> PodStatus {
        var status = PodStatus(json: pod.status.json)
        let time = KubeTime.format(now)
        if status.startTime == nil { status.startTime = time }
        status.hostIP = hostIP
        status.json["hostIPs"] = [["ip": .string(hostIP)]]
        if !state.podIP.isEmpty {
            status.podIP = state.podIP
            status.json["podIPs"] = [["ip": .string(state.podIP)]]
        }
        let initStatuses = pod.spec.initContainers.map { containerStatus($0, isInit: true) }
        let statuses = pod.spec.containers.map { containerStatus($0, isInit: false) }
        status.initContainerStatuses = initStatuses
        status.containerStatuses = statuses
        status.json["qosClass"] = .string(qosClass)

        let initialized = initStatuses.allSatisfy { Self.terminated($0)?["exitCode"]?.intValue == 0 }
        let phase = self.phase(initialized: initialized, initStatuses: initStatuses, statuses: statuses)
        status.phase = phase
        let terminal = phase == "Succeeded" || phase == "Failed"
        let containersReady = !terminal && statuses.allSatisfy(\.ready)
        let gates = (pod.spec.json["readinessGates"]?.arrayValue ?? []).compactMap { $0["conditionType"]?.stringValue }
        let gatesOpen = gates.allSatisfy { gate in pod.status.conditions.contains { $0.type == gate && $0.isTrue } }
        let notReady = statuses.filter { !$0.ready }.map(\.name)
        let notReadyMessage = "containers with unready status: [\(notReady.joined(separator: " "))]"
        var wanted = [
            Condition(type: "PodReadyToStartContainers", status: state.readySandbox != nil),
            initialized
                ? Condition(type: "Initialized", status: true)
                : Condition(
                    type: "Initialized", status: false, reason: "ContainersNotInitialized",
                    message:
                        "containers with incomplete status: [\(initStatuses.filter { Self.terminated($0)?["exitCode"]?.intValue != 0 }.map(\.name).joined(separator: " "))]"
                ),
            containersReady
                ? Condition(type: "ContainersReady", status: true)
                : Condition(
                    type: "ContainersReady", status: false, reason: terminal ? "PodCompleted" : "ContainersNotReady",
                    message: terminal ? nil : notReadyMessage),
        ]
        if containersReady && gatesOpen {
            wanted.append(Condition(type: "Ready", status: true))
        } else {
            let reason = terminal ? "PodCompleted" : containersReady ? "ReadinessGatesNotReady" : "ContainersNotReady"
            wanted.append(
                Condition(
                    type: "Ready", status: false, reason: reason,
                    message: terminal ? nil : containersReady ? "the status of pod readiness gates is not \"True\"" : notReadyMessage))
        }
        status.conditions = Self.merge(wanted, into: status.conditions, time: time)
        return status
    }

    /// Conditions the agent owns replace the old ones; `lastTransitionTime`
    /// moves only when a status changes; others' conditions (PodScheduled,
    /// readiness gates) stay.
    static func merge(_ wanted: [Condition], into existing: [Condition], time: String) -> [Condition] {
        var result = existing.filter { old in !wanted.contains { $0.type == old.type } }
        for var condition in wanted {
            let old = existing.first { $0.type == condition.type }
            condition.lastTransitionTime = old?.status == condition.status ? (old?.lastTransitionTime ?? time) : time
            if let old, old.status == condition.status, old.reason == condition.reason, old.message == condition.message { condition = old }
            condition.json["lastProbeTime"] = .null
            result.append(condition)
        }
        let order = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]
        return result.sorted { (order.firstIndex(of: $0.type) ?? 99) < (order.firstIndex(of: $1.type) ?? 99) }
    }

    // MARK: Containers

    func containerStatus(_ container: Container, isInit: Bool) -> ContainerStatus {
        var status = ContainerStatus(json: ["name": .string(container.name), "image": .string(container.image ?? "")])
        let instances = state.containers(named: container.name)
        status.restartCount = Int64(instances.first?.restartCount ?? 0)
        status.ready = false
        status.started = false
        // Always present, as in Kubernetes (clients require it): empty until an image is resolved.
        status.imageID = ""
        if let latest = instances.first {
            status.containerID = "\(runtimeName)://\(latest.id)"
            status.imageID = latest.status.imageRef
            status.state = Self.state(of: latest)
            if latest.state == .containerRunning {
                let probes = self.probes[container.name] ?? [:]
                let started = container.startupProbe == nil || probes[.startup] == true
                status.started = started
                if !isInit {
                    status.ready = started && (container.readinessProbe == nil || probes[.readiness] == true)
                }
            }
            // An init container that finished successfully counts as ready, as the kubelet reports it.
            if isInit, latest.state == .containerExited, latest.status.exitCode == 0 { status.ready = true }
            if instances.count > 1 { status.lastState = Self.state(of: instances[1]) }
        }
        if let waiting = waiting[container.name] {
            // A container in back-off shows its last run as lastState.
            if let latest = instances.first, latest.state == .containerExited { status.lastState = Self.state(of: latest) }
            status.state = ["waiting": ["reason": .string(waiting.reason), "message": .string(waiting.message)]]
            status.started = false
            status.ready = false
        } else if instances.isEmpty {
            let reason = !isInit && pod.spec.initContainers.isEmpty ? "ContainerCreating" : "PodInitializing"
            status.state = ["waiting": ["reason": .string(reason)]]
        }
        if status.lastState == nil { status.lastState = [:] }
        return status
    }

    static func state(of container: RuntimeContainer) -> JSONValue {
        let status = container.status
        switch status.state {
        case .containerRunning:
            return ["running": ["startedAt": .string(KubeTime.format(date(status.startedAt)))]]
        case .containerExited:
            var terminated: JSONObject = [
                "exitCode": .int(Int64(status.exitCode)),
                "reason": .string(status.reason.isEmpty ? (status.exitCode == 0 ? "Completed" : "Error") : status.reason),
                "startedAt": .string(KubeTime.format(date(status.startedAt))),
                "finishedAt": .string(KubeTime.format(date(status.finishedAt))),
                "containerID": .string(container.id),
            ]
            if !status.message.isEmpty { terminated["message"] = .string(status.message) }
            return ["terminated": .object(terminated)]
        default:
            return ["waiting": ["reason": "ContainerCreating"]]
        }
    }

    static func date(_ nanoseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(nanoseconds) / 1e9) }

    static func terminated(_ status: ContainerStatus) -> JSONValue? { status.state?["terminated"] }

    // MARK: Phase

    /// Kubernetes' pod phase from its containers' states and the restart policy.
    func phase(initialized: Bool, initStatuses: [ContainerStatus], statuses: [ContainerStatus]) -> String {
        let policy = pod.spec.restartPolicy
        if !initialized {
            let failedInit = initStatuses.contains { (Self.terminated($0)?["exitCode"]?.intValue ?? 0) != 0 }
            return failedInit && policy == "Never" ? "Failed" : "Pending"
        }
        var running = 0
        var waiting = 0
        var stopped = 0
        var succeeded = 0
        for status in statuses {
            if status.state?["running"] != nil {
                running += 1
            } else if let terminated = Self.terminated(status) {
                stopped += 1
                if terminated["exitCode"]?.intValue == 0 { succeeded += 1 }
            } else if status.state?["waiting"] != nil {
                // A container waiting to restart has run before: it counts as stopped for the phase.
                if status.lastState?["terminated"] != nil {
                    stopped += 1
                    if status.lastState?["terminated"]?["exitCode"]?.intValue == 0 { succeeded += 1 }
                } else {
                    waiting += 1
                }
            }
        }
        if waiting > 0 { return "Pending" }
        if running > 0 { return "Running" }
        if stopped > 0 {
            switch policy {
            case "Always": return "Running"
            case "OnFailure": return stopped == succeeded ? "Succeeded" : "Running"
            default: return stopped == succeeded ? "Succeeded" : "Failed"
            }
        }
        return "Pending"
    }

    /// Guaranteed when every container's requests equal its limits for cpu and
    /// memory; BestEffort when nothing is set; Burstable otherwise.
    var qosClass: String {
        let containers = pod.spec.containers + pod.spec.initContainers
        let resources = containers.map(\.resources)
        if resources.allSatisfy({ $0.requests.isEmpty && $0.limits.isEmpty }) { return "BestEffort" }
        let guaranteed = resources.allSatisfy { resource in
            ["cpu", "memory"].allSatisfy { name in
                guard let limit = resource.limits[name] else { return false }
                return (resource.requests[name] ?? limit) == limit
            }
        }
        return guaranteed ? "Guaranteed" : "Burstable"
    }
}
