import CRIAPI
import CapstanCore
import Foundation
import OrderedCollections
import Testing

@testable import CapstanAgent

/// The pure step of a pod's sync: from the pod, the runtime's state, the
/// back-off and the probe results to what the sync must do — no runtime, no
/// clock, one row per rule.
struct PodActionsTests {
    /// One container instance the runtime holds, in the newest sandbox.
    struct Instance: Sendable {
        enum State: Sendable {
            case running, created
            case exited(Int32)
        }

        var name: String
        var state: State
        var restartCount = 0
        /// When it finished, before the scenario's `now`.
        var finishedAgo: Duration = .seconds(1)
        /// Its hash annotation no longer matches the pod's spec.
        var specChanged = false

        var id: String { "\(name)-\(restartCount)" }
    }

    enum Sandbox: Sendable { case none, ready, notReady }

    struct Scenario: Sendable, CustomTestStringConvertible {
        var name: String
        var restartPolicy = "Always"
        var containers = ["app"]
        var initContainers: [String] = []
        var deleting = false
        var phase: String?
        var sandbox = Sandbox.ready
        var instances: [Instance] = []
        /// Containers restarted before (so the back-off applies), with how long ago that start was.
        var restartedAgo: [String: Duration] = [:]
        var failedProbes: [String: PodActions.ProbeFailure] = [:]
        var expected: PodActions.Step
        /// When the soonest back-off ends, when one applies.
        var backoffEnds: Duration?

        var testDescription: String { name }
    }

    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let crashLoopMessage = "back-off 10s restarting failed container=app pod=p_default(u1)"

    static let scenarios: [Scenario] = [
        // The pod as a whole.
        Scenario(
            name: "a deleted pod finishes its deletion", deleting: true, instances: [Instance(name: "app", state: .running)],
            expected: .finishDeletion),
        Scenario(
            name: "a Succeeded pod stops what still runs", phase: "Succeeded", instances: [Instance(name: "app", state: .running)],
            expected: .stopFinishedPod),
        Scenario(name: "a Failed pod stops what still runs", phase: "Failed", expected: .stopFinishedPod),
        Scenario(name: "a new pod gets its first sandbox", sandbox: .none, expected: .createSandbox(attempt: 0, stopRunningFirst: false)),
        Scenario(
            name: "a lost sandbox is replaced, its running containers stopped first", sandbox: .notReady,
            instances: [Instance(name: "app", state: .running)], expected: .createSandbox(attempt: 1, stopRunningFirst: true)),
        Scenario(
            name: "a Never pod whose containers ran keeps its end", restartPolicy: "Never", sandbox: .notReady,
            instances: [Instance(name: "app", state: .exited(0))], expected: .keepAsEnded),
        Scenario(
            name: "an OnFailure pod that succeeded keeps its end", restartPolicy: "OnFailure", sandbox: .notReady,
            instances: [Instance(name: "app", state: .exited(0))], expected: .keepAsEnded),
        Scenario(
            name: "an OnFailure pod that failed gets a new sandbox", restartPolicy: "OnFailure", sandbox: .notReady,
            instances: [Instance(name: "app", state: .exited(1))], expected: .createSandbox(attempt: 1, stopRunningFirst: false)),

        // Init containers.
        Scenario(
            name: "only the first init container starts", containers: ["app"], initContainers: ["first", "second"],
            expected: .syncContainers(ContainerActions(start: [.init(name: "first", isInit: true, restartCount: 0, previousID: nil)]))),
        Scenario(
            name: "a running init container holds back the rest", initContainers: ["first", "second"],
            instances: [Instance(name: "first", state: .running)], expected: .syncContainers(ContainerActions())),
        Scenario(
            name: "the next init container starts once the previous succeeded", initContainers: ["first", "second"],
            instances: [Instance(name: "first", state: .exited(0))],
            expected: .syncContainers(ContainerActions(start: [.init(name: "second", isInit: true, restartCount: 0, previousID: nil)]))),
        Scenario(
            name: "a failed init container of a Never pod is not run again", restartPolicy: "Never", initContainers: ["first"],
            instances: [Instance(name: "first", state: .exited(1))], expected: .syncContainers(ContainerActions())),
        Scenario(
            name: "a failed init container restarts", initContainers: ["first"], instances: [Instance(name: "first", state: .exited(1))],
            expected: .syncContainers(ContainerActions(start: [.init(name: "first", isInit: true, restartCount: 1, previousID: "first-0")]))),
        Scenario(
            name: "a crash-looping init container waits out its back-off", initContainers: ["first"],
            instances: [Instance(name: "first", state: .exited(1), restartCount: 1)], restartedAgo: ["first": .seconds(2)],
            expected: .syncContainers(
                ContainerActions(waiting: [
                    "first": ContainerWaiting(reason: "CrashLoopBackOff", message: "back-off 10s restarting failed container=first pod=p_default(u1)")
                ])), backoffEnds: .seconds(9)),

        // Containers.
        Scenario(
            name: "every container starts in a new sandbox", containers: ["app", "side"],
            expected: .syncContainers(
                ContainerActions(start: [
                    .init(name: "app", isInit: false, restartCount: 0, previousID: nil),
                    .init(name: "side", isInit: false, restartCount: 0, previousID: nil),
                ]))),
        Scenario(
            name: "a running container is left alone", instances: [Instance(name: "app", state: .running)],
            expected: .syncContainers(ContainerActions())),
        Scenario(
            name: "the first restart of a crashed container is immediate", instances: [Instance(name: "app", state: .exited(1))],
            expected: .syncContainers(ContainerActions(start: [.init(name: "app", isInit: false, restartCount: 1, previousID: "app-0")]))),
        Scenario(
            name: "a crash-looping container waits out its back-off", instances: [Instance(name: "app", state: .exited(2), restartCount: 1)],
            restartedAgo: ["app": .seconds(2)],
            expected: .syncContainers(ContainerActions(waiting: ["app": ContainerWaiting(reason: "CrashLoopBackOff", message: crashLoopMessage)])),
            backoffEnds: .seconds(9)),
        Scenario(
            name: "after the back-off the container restarts",
            instances: [Instance(name: "app", state: .exited(2), restartCount: 1, finishedAgo: .seconds(11))],
            restartedAgo: ["app": .seconds(12)],
            expected: .syncContainers(ContainerActions(start: [.init(name: "app", isInit: false, restartCount: 2, previousID: "app-1")]))),
        Scenario(
            name: "a container that ran long enough restarts at once", instances: [Instance(name: "app", state: .exited(2), restartCount: 5)],
            restartedAgo: ["app": .seconds(601)],
            expected: .syncContainers(ContainerActions(start: [.init(name: "app", isInit: false, restartCount: 6, previousID: "app-5")]))),
        Scenario(
            name: "a container that succeeded under OnFailure stays exited", restartPolicy: "OnFailure",
            instances: [Instance(name: "app", state: .exited(0))], expected: .syncContainers(ContainerActions())),
        Scenario(
            name: "a container that failed under Never stays exited", restartPolicy: "Never",
            instances: [Instance(name: "app", state: .exited(1))], expected: .syncContainers(ContainerActions())),
        Scenario(
            name: "a changed spec restarts the container", instances: [Instance(name: "app", state: .running, specChanged: true)],
            expected: .syncContainers(ContainerActions(kill: [.init(name: "app", id: "app-0", cause: .definitionChanged)]))),
        Scenario(
            name: "a failed liveness probe restarts the container", instances: [Instance(name: "app", state: .running)],
            failedProbes: ["app": .init(kind: .liveness, message: "HTTP probe failed with statuscode: 500")],
            expected: .syncContainers(
                ContainerActions(kill: [
                    .init(name: "app", id: "app-0", cause: .probeFailed(.init(kind: .liveness, message: "HTTP probe failed with statuscode: 500")))
                ]))),
        Scenario(
            name: "a container created but never started is started", instances: [Instance(name: "app", state: .created)],
            expected: .syncContainers(ContainerActions(resume: ["app-0"]))),
    ]

    @Test(arguments: scenarios)
    func computesWhatTheSyncMustDo(_ scenario: Scenario) {
        var actions = PodActions.compute(
            pod: Self.pod(scenario), state: Self.state(scenario), backoff: Self.backoff(scenario), failedProbes: scenario.failedProbes, now: Self.now)
        var backoffEnds: Duration?
        if case .syncContainers(var containers) = actions.step {
            backoffEnds = containers.backoffEnds
            containers.backoffEnds = nil
            actions.step = .syncContainers(containers)
        }
        #expect(actions.step == scenario.expected)
        // The runtime's nanosecond times pass through a Double: equal to the millisecond.
        #expect(
            backoffEnds.map { abs(($0 - (scenario.backoffEnds ?? .zero)) / .milliseconds(1)) < 1 } ?? (scenario.backoffEnds == nil),
            "\(String(describing: backoffEnds))")
    }

    @Test func killMessagesSayWhy() {
        #expect(
            ContainerActions.Kill(name: "app", id: "x", cause: .definitionChanged).message == "Container app definition changed, will be restarted")
        #expect(
            ContainerActions.Kill(name: "app", id: "x", cause: .probeFailed(.init(kind: .startup, message: ""))).message
                == "Container app failed startup probe, will be restarted")
    }

    // MARK: Building the inputs

    static func pod(_ scenario: Scenario) -> Pod {
        var metadata: JSONObject = ["name": "p", "namespace": "default", "uid": "u1"]
        if scenario.deleting { metadata["deletionTimestamp"] = "2027-01-15T08:00:00Z" }
        var status: JSONObject = [:]
        if let phase = scenario.phase { status["phase"] = .string(phase) }
        return Pod(json: [
            "metadata": .object(metadata),
            "spec": [
                "restartPolicy": .string(scenario.restartPolicy),
                "containers": .array(scenario.containers.map(containerJSON)),
                "initContainers": .array(scenario.initContainers.map(containerJSON)),
            ],
            "status": .object(status),
        ])
    }

    static func containerJSON(_ name: String) -> JSONValue { ["name": .string(name), "image": "busybox:1.35"] }

    static func state(_ scenario: Scenario) -> PodRuntimeState {
        var state = PodRuntimeState()
        guard scenario.sandbox != .none else { return state }
        var sandbox = Runtime_V1_PodSandbox()
        sandbox.id = "s1"
        sandbox.state = scenario.sandbox == .ready ? .sandboxReady : .sandboxNotready
        state.sandboxes = [sandbox]
        let specs = Dictionary(uniqueKeysWithValues: pod(scenario).spec.containers.map { ($0.name, $0) })
        for (index, instance) in scenario.instances.enumerated() {
            var summary = Runtime_V1_Container()
            summary.id = instance.id
            summary.podSandboxID = "s1"
            summary.createdAt = Int64(index + 1)
            summary.labels = [RuntimeLabels.containerName: instance.name]
            summary.annotations = [RuntimeLabels.restartCount: "\(instance.restartCount)"]
            if let spec = specs[instance.name] {
                summary.annotations[RuntimeLabels.containerHash] = instance.specChanged ? "stale" : RuntimeConfigBuilder.hash(spec)
            }
            var status = Runtime_V1_ContainerStatus()
            status.id = instance.id
            switch instance.state {
            case .running: status.state = .containerRunning
            case .created: status.state = .containerCreated
            case .exited(let code):
                status.state = .containerExited
                status.exitCode = code
                status.finishedAt = nanoseconds(now.addingTimeInterval(-seconds(instance.finishedAgo)))
            }
            summary.state = status.state
            state.containers.append(RuntimeContainer(summary: summary, status: status))
        }
        return state
    }

    static func backoff(_ scenario: Scenario) -> RestartBackoff {
        var backoff = RestartBackoff()
        for (name, ago) in scenario.restartedAgo {
            backoff.started(RestartBackoff.key(podUID: "u1", container: name), now: now.addingTimeInterval(-seconds(ago)))
        }
        return backoff
    }

    static func seconds(_ duration: Duration) -> Double { Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18 }

    static func nanoseconds(_ date: Date) -> Int64 { Int64(date.timeIntervalSince1970 * 1e9) }
}
