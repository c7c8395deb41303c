import CRIAPI
import CapstanAPI
import CapstanClient
import CapstanCore
import Foundation
import GRPCCore
import Logging
import OrderedCollections

/// Makes the runtime match one pod, level-based like the kubelet's
/// `SyncPod`: it reads the runtime afresh, asks ``PodActions`` what to do,
/// and carries that out — sandbox, volumes, container starts (``ImagePuller``),
/// stops (``ContainerStopper``) — then writes what it found to `pods/status`
/// (``PodStatusReporter``). A missed event costs latency, never correctness,
/// and a restarted agent adopts what runs.
actor PodSyncer {
    struct Configuration: Sendable {
        var nodeName: String
        var logRoot: String
        /// The node's address, for the status and the downward API.
        var hostIP = "127.0.0.1"
        /// The runtime's name, the scheme of container IDs (`containerd://…`).
        var runtimeName = "cri"
        var restartBackoff = RestartBackoff()
        var imagePullBackoff = RestartBackoff()
        var intervals = PodSyncIntervals()
        /// See ``RuntimeConfigBuilder/seccompDefault``.
        var seccompDefault = true
        /// How pods' resolv.conf is written.
        var dns = PodDNS.none
        /// Where containers reach the API server (`KUBERNETES_SERVICE_HOST`/`PORT`); nil sets no variables.
        var apiServerForPods: @Sendable () -> APIServerAddress? = { nil }
    }

    private let configuration: Configuration
    private let client: any ClusterClient
    private let runtime: any RuntimeService
    private let volumes: VolumeManager
    private let events: EventRecorder
    private let probes: ProbeManager
    private let images: ImagePuller
    private let stopper: ContainerStopper
    private let status: PodStatusReporter
    private let logger: Logger
    private let wallClock: any WallClock
    private let tokens: ServiceAccountTokenManager
    private var backoff: RestartBackoff
    /// Volume paths of pods whose volumes were set up: a running pod keeps them (and keeps
    /// being managed) when a ConfigMap it mounts disappears later.
    private var mounted: [String: [String: String]] = [:]

    private var intervals: PodSyncIntervals { configuration.intervals }

    init(
        configuration: Configuration, client: any ClusterClient, runtime: any RuntimeService, volumes: VolumeManager, events: EventRecorder,
        probes: ProbeManager, logger: Logger, clock: any Clock<Duration>, wallClock: any WallClock
    ) {
        self.configuration = configuration
        self.client = client
        self.runtime = runtime
        self.volumes = volumes
        self.events = events
        self.probes = probes
        self.logger = logger
        self.wallClock = wallClock
        self.backoff = configuration.restartBackoff
        self.tokens = ServiceAccountTokenManager(client: client, wallClock: wallClock)
        self.images = ImagePuller(runtime: runtime, events: events, backoff: configuration.imagePullBackoff, clock: clock, wallClock: wallClock)
        self.stopper = ContainerStopper(runtime: runtime, events: events, logger: logger, clock: clock)
        self.status = PodStatusReporter(
            client: client, probes: probes, logger: logger, wallClock: wallClock, hostIP: configuration.hostIP, runtimeName: configuration.runtimeName
        )
    }

    // MARK: Sync

    /// Syncs one pod; returns when it wants to be synced again at the latest
    /// (a back-off ending, a pod still starting).
    func sync(_ pod: Pod) async -> Duration {
        do {
            return try await carryOut(pod)
        } catch {
            logger.warning("pod sync failed", metadata: ["pod": "\(pod.metadata.namespace ?? "")/\(pod.metadata.name)", "error": "\(error)"])
            return intervals.afterError
        }
    }

    private func carryOut(_ pod: Pod) async throws -> Duration {
        let uid = pod.metadata.uid ?? ""
        var state = try await runtimeState(uid: uid)
        var actions = try await computeActions(pod, state)
        switch actions.step {
        case .finishDeletion:
            try await finishDeletion(pod)
            return intervals.afterError
        case .stopFinishedPod:
            // Done: nothing runs again; the sandbox goes, the record stays.
            try await stopper.stopEverything(pod, state: state, grace: pod.spec.terminationGracePeriodSeconds, reason: nil)
            await probes.remove(podUID: uid)
            return intervals.finished
        case .keepAsEnded:
            await status.report(pod, state: state, waiting: [:])
            return intervals.finished
        case .createSandbox, .syncContainers:
            break
        }
        let builder = RuntimeConfigBuilder(
            pod: pod, nodeName: configuration.nodeName, logRoot: configuration.logRoot, seccompDefault: configuration.seccompDefault,
            dns: configuration.dns)
        let references = try await PodReferences.read(for: pod, client: client, tokens: tokens)
        if case .createSandbox(let attempt, let stopRunningFirst) = actions.step {
            if stopRunningFirst {
                try await stopper.stopEverything(
                    pod, state: state, grace: pod.spec.terminationGracePeriodSeconds, reason: "Pod sandbox changed, it will be killed and re-created."
                )
            }
            try FileManager.default.createDirectory(atPath: builder.logDirectory, withIntermediateDirectories: true)
            do {
                _ = try await runtime.runPodSandbox(builder.sandboxConfig(attempt: attempt))
            } catch {
                await events.record(
                    Unstructured(json: pod.json), type: .warning, reason: "FailedCreatePodSandBox",
                    message: "Failed to create pod sandbox: \(Self.describe(error))")
                await status.report(pod, state: state, waiting: [:])
                return intervals.afterSetupFailure
            }
            // Older sandboxes of this pod are done with.
            for old in state.sandboxes { try? await runtime.removePodSandbox(old.id) }
            state = try await runtimeState(uid: uid)
            actions = try await computeActions(pod, state)
        }
        let mountedVolumes: [String: String]
        do {
            mountedVolumes = try volumes.prepare(pod, references: references, podIP: state.podIP, hostIP: configuration.hostIP)
            mounted[uid] = mountedVolumes
        } catch {
            await events.record(Unstructured(json: pod.json), type: .warning, reason: "FailedMount", message: "\(error)")
            guard let previous = mounted[uid] else {
                await status.report(pod, state: state, waiting: [:])
                return intervals.afterSetupFailure
            }
            mountedVolumes = previous
        }
        guard let sandbox = state.readySandbox, case .syncContainers(let containers) = actions.step else { return intervals.afterError }
        let context = StartContext(
            pod: pod, builder: builder, references: references, volumes: mountedVolumes, sandboxID: sandbox.id, podIP: state.podIP)

        var again = min(intervals.steady, containers.backoffEnds ?? intervals.steady)
        var waiting = containers.waiting
        for kill in containers.kill {
            if case .probeFailed(let failure) = kill.cause {
                await events.record(
                    Unstructured(json: pod.json), type: .warning, reason: "Unhealthy",
                    message: "\(failure.kind == .startup ? "Startup" : "Liveness") probe failed: \(failure.message)",
                    fieldPath: "spec.containers{\(kill.name)}")
            }
            await stopper.stop(pod, kill.name, kill.id, grace: pod.spec.terminationGracePeriodSeconds, message: kill.message)
            again = min(again, intervals.afterContainerChange)
        }
        for start in containers.start {
            let spec = (start.isInit ? pod.spec.initContainers : pod.spec.containers).first { $0.name == start.name }
            guard let spec else { continue }
            if let problem = await self.start(spec, context: context, restartCount: start.restartCount, isRestart: start.previousID != nil) {
                waiting[start.name] = problem
                again = min(again, intervals.starting)
            }
        }
        for id in containers.resume {
            do {
                try await runtime.startContainer(id)
            } catch {
                try? await runtime.removeContainer(id)
            }
            again = min(again, intervals.afterContainerChange)
        }

        state = try await runtimeState(uid: uid)
        try await removeOldInstances(state)
        await probes.update(pod: pod, running: Self.runningInstances(state), podIP: state.podIP)
        let reported = await status.report(pod, state: state, waiting: waiting)
        if reported.phase == "Pending" || reported.conditions.contains(where: { $0.type == "Ready" && !$0.isTrue }) {
            again = min(again, intervals.starting)
        }
        return again
    }

    /// The pure step's inputs read from the runtime and the prober, then the step itself.
    private func computeActions(_ pod: Pod, _ state: PodRuntimeState) async throws -> PodActions {
        let uid = pod.metadata.uid ?? ""
        var failedProbes: [String: PodActions.ProbeFailure] = [:]
        for container in pod.spec.containers {
            guard let latest = state.latest(container.name), latest.state == .containerRunning else { continue }
            for kind in [ProbeManager.Kind.startup, .liveness] {
                let key = ProbeManager.Key(podUID: uid, container: container.name, kind: kind)
                if let result = await probes.result(key, containerID: latest.id), !result.passing {
                    failedProbes[container.name] = PodActions.ProbeFailure(kind: kind, message: result.message)
                    break
                }
            }
        }
        return PodActions.compute(pod: pod, state: state, backoff: backoff, failedProbes: failedProbes, now: wallClock.currentDate)
    }

    struct StartContext {
        var pod: Pod
        var builder: RuntimeConfigBuilder
        var references: PodReferences
        var volumes: [String: String]
        var sandboxID: String
        var podIP: String
    }

    /// Pulls (per policy), configures, creates and starts a container. Returns
    /// why it could not, as the container's waiting state.
    private func start(_ container: Container, context: StartContext, restartCount: Int, isRestart: Bool) async -> ContainerWaiting? {
        let pod = context.pod
        let object = Unstructured(json: pod.json)
        let fieldPath = "spec.\(pod.spec.initContainers.contains { $0.name == container.name } ? "initContainers" : "containers"){\(container.name)}"
        if let problem = await images.ensureImage(container, pod: pod, fieldPath: fieldPath) { return problem }
        let environment: [(name: String, value: String)]
        let mounts: [Runtime_V1_Mount]
        do {
            environment = try EnvironmentResolver(
                pod: pod, references: context.references, podIP: context.podIP, hostIP: configuration.hostIP,
                serviceVariables: configuration.apiServerForPods()?.environment ?? []
            )
            .environment(for: container)
            mounts = try volumes.mounts(for: container, volumes: context.volumes, pod: pod)
        } catch {
            await events.record(object, type: .warning, reason: "Failed", message: "Error: \(error)", fieldPath: fieldPath)
            return ContainerWaiting(reason: "CreateContainerConfigError", message: "\(error)")
        }
        let config = context.builder.containerConfig(container, restartCount: restartCount, environment: environment, mounts: mounts)
        try? FileManager.default.createDirectory(atPath: context.builder.logDirectory + "/" + container.name, withIntermediateDirectories: true)
        let sandboxConfig = context.builder.sandboxConfig(attempt: 0)
        let id: String
        do {
            id = try await runtime.createContainer(sandboxID: context.sandboxID, config: config, sandboxConfig: sandboxConfig)
        } catch {
            await events.record(object, type: .warning, reason: "Failed", message: "Error: \(Self.describe(error))", fieldPath: fieldPath)
            return ContainerWaiting(reason: "CreateContainerError", message: Self.describe(error))
        }
        await events.record(object, reason: "Created", message: "Created container \(container.name)", fieldPath: fieldPath)
        do {
            try await runtime.startContainer(id)
        } catch {
            await events.record(object, type: .warning, reason: "Failed", message: "Error: \(Self.describe(error))", fieldPath: fieldPath)
            return ContainerWaiting(reason: "RunContainerError", message: Self.describe(error))
        }
        if isRestart { backoff.started(RestartBackoff.key(podUID: pod.metadata.uid ?? "", container: container.name), now: wallClock.currentDate) }
        await events.record(object, reason: "Started", message: "Started container \(container.name)", fieldPath: fieldPath)
        return nil
    }

    // MARK: Deletion and clean-up

    /// A pod marked for deletion: containers get their grace period, then
    /// everything is removed and the API object deleted for good.
    private func finishDeletion(_ pod: Pod) async throws {
        let uid = pod.metadata.uid ?? ""
        let grace = pod.metadata.json["deletionGracePeriodSeconds"]?.intValue ?? pod.spec.terminationGracePeriodSeconds
        // Read the runtime again: the sync's snapshot may predate a container it
        // started, which must get its grace period too, not a sandbox stop's kill.
        let current = try await runtimeState(uid: uid)
        try await stopper.stopEverything(pod, state: current, grace: grace, reason: nil)
        await probes.remove(podUID: uid)
        let stopped = try await runtimeState(uid: uid)
        await status.report(pod, state: stopped, waiting: [:])
        try await removeAll(uid: uid, state: stopped)
        do {
            _ = try await client.delete(
                BuiltinKinds.pod, namespace: pod.metadata.namespace, name: pod.metadata.name,
                options: DeleteOptions(gracePeriodSeconds: 0, preconditionUID: uid))
        } catch let error as APIError where error.code == 404 || error.code == 409 {
            // Already gone, or a new pod of the same name: nothing of ours to delete.
        }
        await forget(uid: uid)
    }

    /// A pod that is no longer in the API (deleted while the agent was away):
    /// stop and remove what still runs for it.
    func cleanUpOrphan(uid: String) async {
        guard !uid.isEmpty else { return }
        do {
            let state = try await runtimeState(uid: uid)
            for container in state.running { try? await runtime.stopContainer(container.id, timeout: 10) }
            for sandbox in state.sandboxes where sandbox.state == .sandboxReady { try? await runtime.stopPodSandbox(sandbox.id) }
            try await removeAll(uid: uid, state: state)
        } catch {
            logger.warning("cleaning up a deleted pod failed", metadata: ["uid": "\(uid)", "error": "\(error)"])
        }
        await probes.remove(podUID: uid)
        await forget(uid: uid)
    }

    private func removeAll(uid: String, state: PodRuntimeState) async throws {
        // Without a uid nothing identifies the pod's folders: never clean up "everything".
        guard !uid.isEmpty else { return }
        for container in state.containers { try await runtime.removeContainer(container.id) }
        for sandbox in state.sandboxes { try await runtime.removePodSandbox(sandbox.id) }
        volumes.cleanUp(uid)
        let logRoot = configuration.logRoot
        if let directory = try? FileManager.default.contentsOfDirectory(atPath: logRoot).first(where: { $0.hasSuffix("_" + uid) }) {
            try? FileManager.default.removeItem(atPath: logRoot + "/" + directory)
        }
    }

    private func forget(uid: String) async {
        backoff.forget(prefix: uid + "/")
        mounted[uid] = nil
        await tokens.forget(podUID: uid)
        await images.forget(podUID: uid)
        await status.forget(podUID: uid)
    }

    /// Keeps the newest two instances of each container (the current one and
    /// the previous, for `kubectl logs --previous`); removes older exited ones.
    private func removeOldInstances(_ state: PodRuntimeState) async throws {
        let names = Set(state.containers.map(\.name))
        for name in names {
            for old in state.containers(named: name).dropFirst(2) where old.state == .containerExited {
                try await runtime.removeContainer(old.id)
            }
        }
    }

    static func runningInstances(_ state: PodRuntimeState) -> [String: (id: String, startedAt: Date)] {
        var running: [String: (id: String, startedAt: Date)] = [:]
        for container in state.running where running[container.name] == nil && container.sandboxID == state.sandboxes.first?.id {
            running[container.name] = (container.id, PodStatusBuilder.date(container.status.startedAt))
        }
        return running
    }

    // MARK: Runtime state

    func runtimeState(uid: String) async throws -> PodRuntimeState {
        var state = PodRuntimeState()
        state.sandboxes = try await runtime.listPodSandboxes()
            .filter { $0.labels[RuntimeLabels.podUID] == uid || $0.metadata.uid == uid }
            .sorted { $0.createdAt > $1.createdAt }
        let sandboxIDs = Set(state.sandboxes.map(\.id))
        for summary in try await runtime.listContainers() where sandboxIDs.contains(summary.podSandboxID) {
            guard let status = try? await runtime.containerStatus(summary.id) else { continue }
            state.containers.append(RuntimeContainer(summary: summary, status: status))
        }
        if let ready = state.readySandbox, let status = try? await runtime.podSandboxStatus(ready.id) {
            state.podIP = status.network.ip
        }
        return state
    }

    static func describe(_ error: any Error) -> String {
        // gRPC errors print their code and message; people want the message.
        if let rpc = error as? RPCError { return rpc.message }
        return "\(error)"
    }
}
