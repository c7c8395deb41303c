import CapstanClient
import CapstanCore
import Foundation
import OrderedCollections

/// The Node object an agent registers and the status it posts, computed from
/// the machine and the runtime. Pure, so every rule is unit-tested.
struct NodeStatusBuilder {
    var nodeName: String
    var machine: MachineInfo
    var runtimeVersion: String
    /// Why the node cannot run pods (runtime unreachable, no pod network), or nil when it can.
    var notReadyReason: String?
    var maxPods: Int
    var agentVersion: String
    var labels: [String: String]
    var port: Int?

    /// Memory kept back from pods, as the kubelet's default hard eviction threshold.
    static let reservedMemory: Int64 = 100 * 1024 * 1024
    static let memoryPressureBelow: Int64 = 100 * 1024 * 1024
    static let diskPressureBelowFraction = 0.10
    static let pidPressureAboveFraction = 0.90

    /// Labels every node carries, then the configured ones.
    var allLabels: [String: String] {
        var all = [
            "kubernetes.io/hostname": nodeName, "kubernetes.io/os": "linux", "kubernetes.io/arch": machine.architecture,
            "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": machine.architecture,
        ]
        all.merge(labels) { _, configured in configured }
        return all
    }

    /// A new Node: labels and status; `spec` is the cluster's to set (taints, unschedulable).
    func node(now: Date) -> JSONValue {
        var node = Node(json: ["apiVersion": "v1", "kind": "Node", "metadata": ["name": .string(nodeName)]])
        node.metadata.labels = allLabels
        node.status = status(previous: [], now: now)
        return .object(node.json)
    }

    func status(previous: [Condition], now: Date) -> NodeStatus {
        var status = NodeStatus(json: [:])
        let storage = Quantity(machine.storageBytes, format: .binarySI)
        status.capacity = [
            "cpu": Quantity(Int64(machine.cpuCores)), "memory": Quantity(machine.memoryBytes, format: .binarySI),
            "ephemeral-storage": storage, "pods": Quantity(Int64(maxPods)),
        ]
        status.allocatable = [
            "cpu": Quantity(Int64(machine.cpuCores)),
            "memory": Quantity(max(0, machine.memoryBytes - Self.reservedMemory), format: .binarySI),
            "ephemeral-storage": Quantity(Int64(Double(machine.storageBytes) * (1 - Self.diskPressureBelowFraction))),
            "pods": Quantity(Int64(maxPods)),
        ]
        status.conditions = conditions(previous: previous, now: now)
        var addresses: [JSONValue] = machine.addresses.prefix(1).map { ["type": "InternalIP", "address": .string($0)] }
        if addresses.isEmpty { addresses.append(["type": "InternalIP", "address": "127.0.0.1"]) }
        addresses.append(["type": "Hostname", "address": .string(nodeName)])
        status.addresses = addresses
        status.nodeInfo = [
            "machineID": .string(machine.machineID), "systemUUID": .string(machine.machineID), "bootID": .string(machine.bootID),
            "kernelVersion": .string(machine.kernelVersion), "osImage": .string(machine.osImage),
            "containerRuntimeVersion": .string(runtimeVersion), "kubeletVersion": .string(agentVersion),
            "kubeProxyVersion": "", "operatingSystem": "linux", "architecture": .string(machine.architecture),
        ]
        if let port { status.json["daemonEndpoints"] = ["kubeletEndpoint": ["Port": .int(Int64(port))]] }
        return status
    }

    /// Ready and the three pressure conditions. `lastTransitionTime` moves only
    /// when a condition's status changes; `lastHeartbeatTime` on every post.
    func conditions(previous: [Condition], now: Date) -> [Condition] {
        let memoryLow = machine.memoryAvailableBytes < Self.memoryPressureBelow
        let diskLow =
            machine.storageBytes > 0 && Double(machine.storageAvailableBytes) < Double(machine.storageBytes) * Self.diskPressureBelowFraction
        let pidsHigh = Double(machine.processes) > Double(machine.maxProcesses) * Self.pidPressureAboveFraction
        let wanted: [(String, Bool, String, String)] = [
            (
                "MemoryPressure", memoryLow, memoryLow ? "KubeletHasInsufficientMemory" : "KubeletHasSufficientMemory",
                memoryLow ? "node has memory pressure" : "kubelet has sufficient memory available"
            ),
            (
                "DiskPressure", diskLow, diskLow ? "KubeletHasDiskPressure" : "KubeletHasNoDiskPressure",
                diskLow ? "node has disk pressure" : "kubelet has no disk pressure"
            ),
            (
                "PIDPressure", pidsHigh, pidsHigh ? "KubeletHasInsufficientPID" : "KubeletHasSufficientPID",
                pidsHigh ? "node has PID pressure" : "kubelet has sufficient PID available"
            ),
            (
                "Ready", notReadyReason == nil, notReadyReason == nil ? "KubeletReady" : "KubeletNotReady",
                notReadyReason ?? "capstan agent is posting ready status"
            ),
        ]
        let time = KubeTime.format(now)
        return wanted.map { type, status, reason, message in
            var condition = Condition(type: type, status: status, reason: reason, message: message, time: time)
            condition.lastHeartbeatTime = time
            if let old = previous.first(where: { $0.type == type }), old.status == condition.status, let since = old.lastTransitionTime {
                condition.lastTransitionTime = since
            }
            return condition
        }
    }
}
