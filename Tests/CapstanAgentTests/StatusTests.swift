import CRIAPI
import CapstanCore
import Foundation
import OrderedCollections
import Testing

@testable import CapstanAgent

/// Pod phases and conditions from container states, and node conditions.
struct StatusTests {
    func pod(restartPolicy: String, containers: [String], initContainers: [String] = []) -> Pod {
        Pod(json: [
            "metadata": ["name": "p", "namespace": "default", "uid": "u"],
            "spec": [
                "restartPolicy": .string(restartPolicy),
                "containers": .array(containers.map { ["name": .string($0), "image": "i"] }),
                "initContainers": .array(initContainers.map { ["name": .string($0), "image": "i"] }),
            ],
            "status": ["conditions": [["type": "PodScheduled", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"]]],
        ])
    }

    func state(_ containers: [(name: String, state: Runtime_V1_ContainerState, exit: Int32)]) -> PodRuntimeState {
        var sandbox = Runtime_V1_PodSandbox()
        sandbox.id = "s"
        sandbox.state = .sandboxReady
        var runtime = PodRuntimeState(sandboxes: [sandbox], podIP: "10.88.0.3")
        for (index, entry) in containers.enumerated() {
            var summary = Runtime_V1_Container()
            summary.id = "c\(index)"
            summary.podSandboxID = "s"
            summary.labels = ["io.kubernetes.container.name": entry.name]
            summary.createdAt = Int64(index + 1)
            var status = Runtime_V1_ContainerStatus()
            status.state = entry.state
            status.exitCode = entry.exit
            status.startedAt = 1_700_000_000_000_000_000
            status.finishedAt = 1_700_000_001_000_000_000
            runtime.containers.append(RuntimeContainer(summary: summary, status: status))
        }
        return runtime
    }

    func status(_ pod: Pod, _ state: PodRuntimeState, waiting: [String: ContainerWaiting] = [:]) -> PodStatus {
        PodStatusBuilder(pod: pod, state: state, hostIP: "192.0.2.1", runtimeName: "capstan", waiting: waiting, now: Date()).status()
    }

    @Test func phases() {
        #expect(status(pod(restartPolicy: "Always", containers: ["a"]), state([("a", .containerRunning, 0)])).phase == "Running")
        #expect(
            status(pod(restartPolicy: "Never", containers: ["a", "b"]), state([("a", .containerExited, 0), ("b", .containerExited, 1)])).phase
                == "Failed")
        #expect(status(pod(restartPolicy: "Never", containers: ["a"]), state([("a", .containerExited, 0)])).phase == "Succeeded")
        #expect(status(pod(restartPolicy: "OnFailure", containers: ["a"]), state([("a", .containerExited, 1)])).phase == "Running")
        #expect(status(pod(restartPolicy: "Always", containers: ["a"]), state([("a", .containerExited, 0)])).phase == "Running")
        #expect(status(pod(restartPolicy: "Always", containers: ["a", "b"]), state([("a", .containerRunning, 0)])).phase == "Pending")
        #expect(status(pod(restartPolicy: "Never", containers: ["a"], initContainers: ["i"]), state([("i", .containerExited, 2)])).phase == "Failed")
        #expect(
            status(pod(restartPolicy: "Always", containers: ["a"], initContainers: ["i"]), state([("i", .containerExited, 2)])).phase == "Pending")
    }

    @Test func conditionsAndContainerStates() {
        let built = status(
            pod(restartPolicy: "Always", containers: ["a", "b"]), state([("a", .containerRunning, 0), ("b", .containerExited, 1)]),
            waiting: ["b": ContainerWaiting(reason: "CrashLoopBackOff", message: "back-off 10s")])
        let conditions = Dictionary(uniqueKeysWithValues: built.conditions.map { ($0.type, $0) })
        #expect(conditions["PodScheduled"]?.lastTransitionTime == "2026-01-01T00:00:00Z")  // kept as the scheduler wrote it
        #expect(conditions["Initialized"]?.isTrue == true)
        #expect(conditions["Ready"]?.isTrue == false)
        #expect(conditions["Ready"]?.message == "containers with unready status: [b]")
        let b = built.containerStatuses[1]
        #expect(b.state?["waiting"]?["reason"]?.stringValue == "CrashLoopBackOff")
        #expect(b.lastState?["terminated"]?["exitCode"]?.intValue == 1)
        #expect(built.containerStatuses[0].ready && built.containerStatuses[0].containerID == "capstan://c0")
        #expect(built.podIP == "10.88.0.3" && built.hostIP == "192.0.2.1")
        #expect(built.json["qosClass"]?.stringValue == "BestEffort")
    }

    @Test func nodeConditionsKeepTransitionTimes() {
        var machine = MachineInfo.read(storagePath: "/")
        machine.memoryAvailableBytes = 1 << 30
        machine.storageBytes = 100
        machine.storageAvailableBytes = 50
        machine.processes = 10
        machine.maxProcesses = 1000
        var builder = NodeStatusBuilder(
            nodeName: "n", machine: machine, runtimeVersion: "capstan://0.1", notReadyReason: nil, maxPods: 110, agentVersion: "v",
            labels: ["zone": "a"], port: nil)
        let then = Date(timeIntervalSince1970: 1_000_000)
        let first = builder.conditions(previous: [], now: then)
        #expect(first.allSatisfy { $0.lastTransitionTime == KubeTimeForTests.format(then) })
        #expect(first.first { $0.type == "Ready" }?.reason == "KubeletReady")
        let later = builder.conditions(previous: first, now: then.addingTimeInterval(60))
        #expect(later.first { $0.type == "Ready" }?.lastTransitionTime == KubeTimeForTests.format(then))
        #expect(later.first { $0.type == "Ready" }?.lastHeartbeatTime == KubeTimeForTests.format(then.addingTimeInterval(60)))
        builder.notReadyReason = "container runtime is down"
        builder.machine.storageAvailableBytes = 5
        let down = builder.conditions(previous: later, now: then.addingTimeInterval(120))
        #expect(down.first { $0.type == "Ready" }?.status == "False")
        #expect(down.first { $0.type == "Ready" }?.message == "container runtime is down")
        #expect(down.first { $0.type == "DiskPressure" }?.isTrue == true)
        #expect(down.first { $0.type == "Ready" }?.lastTransitionTime == KubeTimeForTests.format(then.addingTimeInterval(120)))
        #expect(builder.allLabels["zone"] == "a" && builder.allLabels["kubernetes.io/hostname"] == "n")
    }
}

enum KubeTimeForTests {
    static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
