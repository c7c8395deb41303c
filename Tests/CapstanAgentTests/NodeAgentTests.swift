import CRIAPI
import CapstanAPI
import CapstanAPIServer
import CapstanAgent
import CapstanClient
import CapstanCore
import CapstanTestSupport
import CapstanTesting
import CoreFoundation
import Foundation
import OrderedCollections
import Synchronization
import Testing

/// The agent over a fake runtime and a real registry: what it asks the
/// runtime for and what it writes back to the API.
@Suite(.timeLimit(.minutes(10)))
struct NodeAgentTests {
    @Test func registersTheNodeAndHeartbeats() async throws {
        try await withAgent { client, _ in
            try await eventually("node registered") { (try? await client.get(Node.self, namespace: nil, name: testNode)) != nil }
            let node = try await client.get(Node.self, namespace: nil, name: testNode)
            #expect(node.metadata.labels["kubernetes.io/hostname"] == testNode)
            #expect(node.metadata.labels["kubernetes.io/os"] == "linux")
            #expect((node.status.capacity["cpu"]?.value ?? 0) >= 1)
            #expect((node.status.allocatable["memory"]?.value ?? 0) > 0)
            #expect(node.status.conditions.map(\.type).sorted() == ["DiskPressure", "MemoryPressure", "PIDPressure", "Ready"])
            #expect(node.status.conditions.first { $0.type == "Ready" }?.isTrue == true)
            #expect(node.status.nodeInfo?["containerRuntimeVersion"]?.stringValue == "fake://1.0")
            try await eventually("lease created") { (try? await client.get(Lease.self, namespace: "kube-node-lease", name: testNode)) != nil }
            let lease = try await client.get(Lease.self, namespace: "kube-node-lease", name: testNode)
            #expect(lease.spec.holderIdentity == testNode)
            #expect(lease.spec.renewTime != nil)
        }
    }

    @Test func runsABoundPodWithConfigAndReportsItReady() async throws {
        try await withAgent { client, runtime in
            _ = try await client.create(
                BuiltinKinds.configMap, namespace: "default",
                object: [
                    "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "settings", "namespace": "default"], "data": ["greeting": "hello"],
                ], options: testWriter)
            let pod = boundPod(
                "web",
                containers: [
                    container(
                        "app",
                        [
                            "env": [
                                ["name": "GREETING", "valueFrom": ["configMapKeyRef": ["name": "settings", "key": "greeting"]]],
                                ["name": "POD", "valueFrom": ["fieldRef": ["fieldPath": "metadata.name"]]],
                            ],
                            "volumeMounts": [["name": "config", "mountPath": "/etc/config"]],
                        ])
                ], extra: ["volumes": [["name": "config", "configMap": ["name": "settings"]]]])
            _ = try await client.create(BuiltinKinds.pod, namespace: "default", object: pod, options: testWriter)
            let running = try await waitForPod(client, "web", "Running and Ready") { $0.status.phase == "Running" && $0.isReady }
            #expect(running.status.podIP?.hasPrefix("10.0.0.") == true)
            #expect(running.containerStatus("app")?.ready == true)
            #expect(running.containerStatus("app")?.containerID?.hasPrefix("fake://") == true)
            #expect(running.status.conditions.map(\.type).contains("PodReadyToStartContainers"))
            #expect(runtime.sandboxCount == 1)
        }
    }

    /// The kubelet's `--seccomp-default`, on by default: a pod that names no seccomp profile
    /// runs under the runtime's default; one that asks for Unconfined, or a privileged
    /// container, gets none.
    @Test func containersRunUnderRuntimeDefaultSeccompUnlessThePodSaysOtherwise() async throws {
        try await withAgent { client, runtime in
            let pod = boundPod(
                "seccomp",
                containers: [
                    container("plain"),
                    container("unconfined", ["securityContext": ["seccompProfile": ["type": "Unconfined"]]]),
                    container("privileged", ["securityContext": ["privileged": true]]),
                ])
            _ = try await client.create(BuiltinKinds.pod, namespace: "default", object: pod, options: testWriter)
            try await waitForPod(client, "seccomp", "Running") { $0.status.phase == "Running" }
            // RuntimeDefault is the proto's zero value: only a profile that is set counts.
            let profiles = runtime.state.withLock { state in
                state.configs.mapValues { $0.linux.securityContext.hasSeccomp ? $0.linux.securityContext.seccomp.profileType : nil }
            }
            #expect(profiles == ["plain": .runtimeDefault, "unconfined": .unconfined, "privileged": .unconfined])
        }
    }

    @Test func theAgentsFoldersAreOnlyItsOwn() async throws {
        try await withCluster { client, root in
            try await runAgent(client: client, runtime: FakeRuntime(), root: root) {
                try await eventually("node registered") { (try? await client.get(Node.self, namespace: nil, name: testNode)) != nil }
                for folder in [root, root + "/logs"] {
                    var info = stat()
                    #expect(stat(folder, &info) == 0 && info.st_mode & 0o7777 == 0o700, "\(folder): \(String(info.st_mode & 0o7777, radix: 8))")
                }
            }
        }
    }

    /// Kubernetes' real back-off (10 s, doubling), on a clock the test moves: no waiting it out.
    @Test func restartsACrashedContainerThenBacksOff() async throws {
        let clock = ManualClock()
        try await withAgent(runtime: FakeRuntime(wallClock: clock), backoff: .seconds(10), clock: clock) { client, runtime in
            _ = try await client.create(
                BuiltinKinds.pod, namespace: "default", object: boundPod("crash", containers: [container("app")]), options: testWriter)
            try await waitForPod(client, "crash", advancing: clock, "Running") { $0.status.phase == "Running" }
            let first = try #require(runtime.running("app"))
            runtime.exit(first, code: 1)
            // The first restart is immediate.
            try await waitForPod(client, "crash", advancing: clock, "restart 1") {
                $0.containerStatus("app")?.restartCount == 1 && $0.containerStatus("app")?.state?["running"] != nil
            }
            let second = try #require(runtime.running("app"))
            runtime.exit(second, code: 2)
            let backingOff = try await waitForPod(client, "crash", advancing: clock, "CrashLoopBackOff") {
                $0.waitingReason("app") == "CrashLoopBackOff"
            }
            let status = try #require(backingOff.containerStatus("app"))
            #expect(
                status.state?["waiting"]?["message"]?.stringValue?.hasPrefix("back-off 10s restarting failed container=app pod=crash_default(")
                    == true)
            #expect(status.lastState?["terminated"]?["exitCode"]?.intValue == 2)
            #expect(status.restartCount == 1)
            #expect(!backingOff.isReady)
            // The back-off ends: it runs again.
            clock.advance(by: .seconds(10))
            try await waitForPod(client, "crash", advancing: clock, "restart 2") {
                $0.containerStatus("app")?.restartCount == 2 && $0.containerStatus("app")?.state?["running"] != nil
            }
        }
    }

    @Test func neverRestartPolicyEndsInFailedOrSucceeded() async throws {
        try await withAgent { client, runtime in
            _ = try await client.create(
                BuiltinKinds.pod, namespace: "default", object: boundPod("once", containers: [container("app")], extra: ["restartPolicy": "Never"]),
                options: testWriter)
            try await waitForPod(client, "once", "Running") { $0.status.phase == "Running" }
            runtime.exit(try #require(runtime.running("app")), code: 3)
            let failed = try await waitForPod(client, "once", "Failed") { $0.status.phase == "Failed" }
            #expect(failed.containerStatus("app")?.state?["terminated"]?["exitCode"]?.intValue == 3)
            #expect(failed.containerStatus("app")?.state?["terminated"]?["reason"]?.stringValue == "Error")
            #expect(failed.containerStatus("app")?.restartCount == 0)

            _ = try await client.create(
                BuiltinKinds.pod, namespace: "default",
                object: boundPod("job", containers: [container("work")], extra: ["restartPolicy": "OnFailure"]), options: testWriter)
            try await waitForPod(client, "job", "Running") { $0.status.phase == "Running" }
            runtime.exit(try #require(runtime.running("work")), code: 0)
            let done = try await waitForPod(client, "job", "Succeeded") { $0.status.phase == "Succeeded" }
            #expect(done.containerStatus("work")?.state?["terminated"]?["reason"]?.stringValue == "Completed")
            #expect(done.status.conditions.first { $0.type == "Ready" }?.reason == "PodCompleted")
        }
    }

    @Test func aNeverRestartedPodIsNotRunAgainWhenItsSandboxIsLost() async throws {
        try await withAgent { client, runtime in
            _ = try await client.create(
                BuiltinKinds.pod, namespace: "default", object: boundPod("job", containers: [container("work")], extra: ["restartPolicy": "Never"]),
                options: testWriter)
            try await waitForPod(client, "job", "Running") { $0.status.phase == "Running" }
            // The sandbox dies (a reboot, say): its container ends with it.
            let sandbox = try #require(runtime.state.withLock { $0.sandboxes.values.first?.id })
            try await runtime.stopPodSandbox(sandbox)
            let failed = try await waitForPod(client, "job", "Failed") { $0.status.phase == "Failed" }
            #expect(failed.containerStatus("work")?.state?["terminated"]?["exitCode"]?.intValue == 137)
            try await Task.sleep(for: .milliseconds(500))
            #expect(runtime.sandboxCount == 1 && runtime.running("work") == nil, "a Never pod's containers ran again")
        }
    }

    @Test func aMissingVolumeSourceIsAFailedMountNamingTheVolume() async throws {
        try await withAgent { client, _ in
            let pod = boundPod(
                "mount", containers: [container("app", ["volumeMounts": [["name": "cfg", "mountPath": "/cfg"]]])],
                extra: ["volumes": [["name": "cfg", "configMap": ["name": "absent"]]]])
            _ = try await client.create(BuiltinKinds.pod, namespace: "default", object: pod, options: testWriter)
            try await eventually("a FailedMount event") {
                let events = try await client.list(BuiltinKinds.event, namespace: "default", options: ListOptions()).items
                return events.contains {
                    $0["reason"]?.stringValue == "FailedMount"
                        && $0["message"]?.stringValue == #"MountVolume.SetUp failed for volume "cfg" : configmap "absent" not found"#
                }
            }
            let waiting = try await client.get(Pod.self, namespace: "default", name: "mount")
            #expect(waiting.status.phase != "Running")
        }
    }

    @Test func initContainersRunOneAfterAnother() async throws {
        try await withAgent { client, runtime in
            let pod = boundPod("init", containers: [container("app")], initContainers: [container("first"), container("second")])
            _ = try await client.create(BuiltinKinds.pod, namespace: "default", object: pod, options: testWriter)
            let waiting = try await waitForPod(client, "init", "first init running") {
                $0.status.initContainerStatuses.first?.state?["running"] != nil
            }
            #expect(waiting.status.phase == "Pending")
            #expect(waiting.status.conditions.first { $0.type == "Initialized" }?.isTrue == false)
            #expect(runtime.running("second") == nil && runtime.running("app") == nil)
            runtime.exit(try #require(runtime.running("first")), code: 0)
            try await eventually("second init starts") { runtime.running("second") != nil }
            #expect(runtime.running("app") == nil)
            runtime.exit(try #require(runtime.running("second")), code: 0)
            let running = try await waitForPod(client, "init", "Running") { $0.status.phase == "Running" && $0.isReady }
            #expect(running.status.conditions.first { $0.type == "Initialized" }?.isTrue == true)
            #expect(running.status.initContainerStatuses.allSatisfy { $0.ready }, "finished init containers report ready")
        }
    }

    @Test func missingConfigMapKeepsTheContainerWaitingUntilItExists() async throws {
        try await withAgent { client, runtime in
            let pod = boundPod("config", containers: [container("app", ["envFrom": [["configMapRef": ["name": "later"], "prefix": "CFG_"]]])])
            _ = try await client.create(BuiltinKinds.pod, namespace: "default", object: pod, options: testWriter)
            let waiting = try await waitForPod(client, "config", "CreateContainerConfigError") {
                $0.waitingReason("app") == "CreateContainerConfigError"
            }
            #expect(waiting.containerStatus("app")?.state?["waiting"]?["message"]?.stringValue == "configmap \"later\" not found")
            #expect(waiting.status.phase == "Pending")
            _ = try await client.create(
                BuiltinKinds.configMap, namespace: "default",
                object: [
                    "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "later", "namespace": "default"], "data": ["a": "1"],
                ], options: testWriter)
            try await waitForPod(client, "config", "Running") { $0.status.phase == "Running" }
            #expect(runtime.running("app") != nil)
        }
    }

    @Test func imagePullPolicies() async throws {
        try await withAgent { client, runtime in
            _ = try await client.create(
                BuiltinKinds.pod, namespace: "default",
                object: boundPod("never", containers: [container("app", image: "local/absent:1", ["imagePullPolicy": "Never"])]), options: testWriter)
            let never = try await waitForPod(client, "never", "ErrImageNeverPull") { $0.waitingReason("app") == "ErrImageNeverPull" }
            #expect(
                never.containerStatus("app")?.state?["waiting"]?["message"]?.stringValue
                    == "Container image \"local/absent:1\" is not present with pull policy of Never")

            _ = try await client.create(
                BuiltinKinds.pod, namespace: "default",
                object: boundPod("broken", containers: [container("app", image: "registry.invalid/missing:1")]), options: testWriter)
            try await waitForPod(client, "broken", "ErrImagePull or ImagePullBackOff") {
                ["ErrImagePull", "ImagePullBackOff"].contains($0.waitingReason("app") ?? "")
            }

            // IfNotPresent (a tag) pulls once; a present image is not pulled again.
            _ = try await client.create(
                BuiltinKinds.pod, namespace: "default", object: boundPod("pulled", containers: [container("app", image: "example/tool:2")]),
                options: testWriter)
            try await waitForPod(client, "pulled", "Running") { $0.status.phase == "Running" }
            #expect(runtime.state.withLock { $0.pulls.filter { $0 == "example/tool:2" }.count } == 1)
            #expect(!runtime.state.withLock { $0.pulls.contains("local/absent:1") })
        }
    }

    @Test func deletionStopsContainersWithTheGracePeriodAndRemovesThePod() async throws {
        try await withAgent { client, runtime in
            _ = try await client.create(
                BuiltinKinds.pod, namespace: "default",
                object: boundPod("gone", containers: [container("app")], extra: ["terminationGracePeriodSeconds": 600]), options: testWriter)
            try await waitForPod(client, "gone", "Running") { $0.status.phase == "Running" }
            let id = try #require(runtime.running("app"))
            _ = try await client.delete(BuiltinKinds.pod, namespace: "default", name: "gone", options: DeleteOptions())
            try await eventually("pod removed from the API") {
                do {
                    _ = try await client.get(BuiltinKinds.pod, namespace: "default", name: "gone")
                    return false
                } catch let error as APIError { return error.code == 404 }
            }
            // A graceful stop: SIGKILL no later than what is left of the pod's grace period
            // (600 s, so that even a badly loaded machine has time left when the stop comes).
            #expect(
                runtime.state.withLock { $0.stops.contains { $0.id == id && $0.timeout > 0 && $0.timeout <= 600 } },
                "\(runtime.state.withLock { $0.stops })")
            try await eventually("runtime emptied") { runtime.containerCount == 0 && runtime.sandboxCount == 0 }
        }
    }

    @Test func aRestartedAgentAdoptsRunningContainers() async throws {
        let runtime = FakeRuntime()
        try await withCluster { client, root in
            try await runAgent(client: client, runtime: runtime, root: root) {
                _ = try await client.create(
                    BuiltinKinds.pod, namespace: "default", object: boundPod("kept", containers: [container("app")]), options: testWriter)
                try await waitForPod(client, "kept", "Running") { $0.status.phase == "Running" && $0.isReady }
            }
            let before = try #require(runtime.running("app"))
            try await runAgent(client: client, runtime: runtime, root: root) {
                try await Task.sleep(for: .seconds(1))
                #expect(runtime.running("app") == before)
                let pod = try await client.get(Pod.self, namespace: "default", name: "kept")
                #expect(pod.containerStatus("app")?.restartCount == 0)
                #expect(runtime.containerCount == 1 && runtime.sandboxCount == 1)
            }
        }
    }
}
