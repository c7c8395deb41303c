import CRIAPI
import CapstanAPI
import CapstanClient
import CapstanCore
import Foundation
import GRPCCore
import Logging

/// Makes the runtime match one pod, level-based like the kubelet's
/// `SyncPod`: sandbox, volumes, init containers in order, containers,
/// restarts with back-off, liveness kills, graceful termination; then writes
/// what it found to `pods/status`. Each call reads the runtime afresh, so a
/// missed event costs latency, never correctness, and a restarted agent
/// adopts what runs.
actor PodSyncer {
    struct Configuration: Sendable {
        var nodeName: String
        var logRoot: String
        var restartBackoff = RestartBackoff()
        /// See ``RuntimeConfigBuilder/seccompDefault``.
        var seccompDefault = true
    }

    let client: any ClusterClient
    let runtime: any RuntimeService
    let volumes: VolumeManager
    let events: EventWriter
    let logger: Logger
    let nodeName: String
    let logRoot: String
    let seccompDefault: Bool
    var probes: ProbeManager!
    var hostIP = "127.0.0.1"
    var runtimeName = "cri"
    private var backoff: RestartBackoff
    private var pullFailures: [String: (at: Date, message: String)] = [:]
    /// Image pulls back off as restarts do (10 s doubling to 5 minutes), per pod and container.
    private var pullBackoff = RestartBackoff()
    /// Volume paths of pods whose volumes were set up: a running pod keeps them (and keeps
    /// being managed) when a ConfigMap it mounts disappears later.
    private var mounted: [String: [String: String]] = [:]
    private var reported: [String: JSONValue] = [:]

    init(configuration: Configuration, client: any ClusterClient, runtime: any RuntimeService, volumes: VolumeManager, events: EventWriter, logger: Logger) {
        self.client = client
        self.runtime = runtime
        self.volumes = volumes
        self.events = events
        self.logger = logger
        self.nodeName = configuration.nodeName
        self.logRoot = configuration.logRoot
        self.backoff = configuration.restartBackoff
        self.seccompDefault = configuration.seccompDefault
    }

    func attach(probes: ProbeManager) { self.probes = probes }

    func setNode(hostIP: String, runtimeName: String) {
        self.hostIP = hostIP
        self.runtimeName = runtimeName
    }

    // MARK: Sync

    /// Syncs one pod; returns when it wants to be synced again at the latest
    /// (a back-off ending, a pod still starting).
    func sync(_ pod: Pod) async -> Duration {
        let uid = pod.metadata.uid ?? ""
        do {
            var state = try await runtimeState(uid: uid)
            if pod.metadata.deletionTimestamp != nil {
                try await finishDeletion(pod)
                return .seconds(2)
            }
            if ["Succeeded", "Failed"].contains(pod.status.phase ?? "") {
                // Done: nothing runs again; the sandbox goes, the record stays.
                try await stopEverything(pod, state: state, grace: pod.spec.terminationGracePeriodSeconds, reason: nil)
                await probes.remove(podUID: uid)
                return .seconds(30)
            }
            let builder = RuntimeConfigBuilder(pod: pod, nodeName: nodeName, logRoot: logRoot, seccompDefault: seccompDefault)
            var waiting: [String: ContainerWaiting] = [:]
            var again: Duration = .seconds(10)
            let references = try await PodReferences.read(for: pod, client: client)

            if state.readySandbox == nil, !Self.needsNewSandbox(pod, state) {
                // Its containers ran and its restart policy does not run them again (a Job's pod
                // after a reboot): the status stays what they ended with.
                await report(pod, state: state, waiting: [:])
                return .seconds(30)
            }
            if state.readySandbox == nil {
                if !state.running.isEmpty {
                    try await stopEverything(pod, state: state, grace: pod.spec.terminationGracePeriodSeconds, reason: "Pod sandbox changed, it will be killed and re-created.")
                }
                try FileManager.default.createDirectory(atPath: builder.logDirectory, withIntermediateDirectories: true)
                do {
                    _ = try await runtime.runPodSandbox(builder.sandboxConfig(attempt: UInt32(state.sandboxes.count)))
                } catch {
                    await events.record(Unstructured(json: pod.json), type: "Warning", reason: "FailedCreatePodSandBox", message: "Failed to create pod sandbox: \(Self.describe(error))")
                    await report(pod, state: state, waiting: [:])
                    return .seconds(5)
                }
                // Older sandboxes of this pod are done with.
                for old in state.sandboxes { try? await runtime.removePodSandbox(old.id) }
                state = try await runtimeState(uid: uid)
            }
            let mountedVolumes: [String: String]
            do {
                mountedVolumes = try volumes.prepare(pod, references: references, podIP: state.podIP, hostIP: hostIP)
                mounted[uid] = mountedVolumes
            } catch {
                await events.record(Unstructured(json: pod.json), type: "Warning", reason: "FailedMount", message: "\(error)")
                guard let previous = mounted[uid] else {
                    await report(pod, state: state, waiting: [:])
                    return .seconds(5)
                }
                mountedVolumes = previous
            }
            guard let sandbox = state.readySandbox else { return .seconds(2) }
            let context = StartContext(pod: pod, builder: builder, references: references, volumes: mountedVolumes, sandboxID: sandbox.id, podIP: state.podIP)

            // Init containers, one at a time, each to a successful exit.
            var initialized = true
            for container in pod.spec.initContainers {
                let latest = state.latest(container.name)
                if let latest, latest.state == .containerExited, latest.status.exitCode == 0 { continue }
                initialized = false
                if let latest, latest.state == .containerRunning { break }
                if let latest, latest.state == .containerExited {
                    if pod.spec.restartPolicy == "Never" { break }
                    if let wait = restartDelay(pod, container, latest) {
                        waiting[container.name] = wait.waiting
                        again = min(again, wait.remaining)
                        break
                    }
                }
                if let problem = await start(container, context: context, restartCount: latest.map { $0.restartCount + 1 } ?? 0, previous: latest) {
                    waiting[container.name] = problem
                    again = .seconds(2)
                }
                break
            }

            if initialized {
                for container in pod.spec.containers {
                    guard let latest = state.latest(container.name) else {
                        if let problem = await start(container, context: context, restartCount: 0, previous: nil) {
                            waiting[container.name] = problem
                            again = .seconds(2)
                        }
                        continue
                    }
                    switch latest.state {
                    case .containerRunning:
                        if let reason = await killReason(pod, container, latest) {
                            await stop(pod, container.name, latest.id, grace: pod.spec.terminationGracePeriodSeconds, message: reason)
                            again = .seconds(1)
                        }
                    case .containerExited:
                        guard Self.shouldRestart(policy: pod.spec.restartPolicy, exitCode: latest.status.exitCode) else { continue }
                        if let wait = restartDelay(pod, container, latest) {
                            waiting[container.name] = wait.waiting
                            again = min(again, wait.remaining)
                            continue
                        }
                        if let problem = await start(container, context: context, restartCount: latest.restartCount + 1, previous: latest) {
                            waiting[container.name] = problem
                            again = .seconds(2)
                        }
                    default:
                        // Created but never started (the agent stopped in between): start it now.
                        do {
                            try await runtime.startContainer(latest.id)
                        } catch {
                            try? await runtime.removeContainer(latest.id)
                        }
                        again = .seconds(1)
                    }
                }
            }
            state = try await runtimeState(uid: uid)
            try await removeOldInstances(state)
            await probes.update(pod: pod, running: Self.runningInstances(state), podIP: state.podIP)
            let status = await report(pod, state: state, waiting: waiting)
            if status.phase == "Pending" || status.conditions.contains(where: { $0.type == "Ready" && !$0.isTrue }) {
                again = min(again, .seconds(2))
            }
            return again
        } catch {
            logger.warning("pod sync failed", metadata: ["pod": "\(pod.metadata.namespace ?? "")/\(pod.metadata.name)", "error": "\(error)"])
            return .seconds(2)
        }
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
    private func start(_ container: Container, context: StartContext, restartCount: Int, previous: RuntimeContainer?) async -> ContainerWaiting? {
        let pod = context.pod
        let object = Unstructured(json: pod.json)
        let fieldPath = "spec.\(pod.spec.initContainers.contains { $0.name == container.name } ? "initContainers" : "containers"){\(container.name)}"
        if let problem = await ensureImage(container, pod: pod, fieldPath: fieldPath) { return problem }
        let environment: [(name: String, value: String)]
        let mounts: [Runtime_V1_Mount]
        do {
            environment = try EnvironmentResolver(pod: pod, references: context.references, podIP: context.podIP, hostIP: hostIP).environment(for: container)
            mounts = try volumes.mounts(for: container, volumes: context.volumes, pod: pod)
        } catch {
            await events.record(object, type: "Warning", reason: "Failed", message: "Error: \(error)", fieldPath: fieldPath)
            return ContainerWaiting(reason: "CreateContainerConfigError", message: "\(error)")
        }
        let config = context.builder.containerConfig(container, restartCount: restartCount, environment: environment, mounts: mounts)
        try? FileManager.default.createDirectory(atPath: context.builder.logDirectory + "/" + container.name, withIntermediateDirectories: true)
        let sandboxConfig = context.builder.sandboxConfig(attempt: 0)
        let id: String
        do {
            id = try await runtime.createContainer(sandboxID: context.sandboxID, config: config, sandboxConfig: sandboxConfig)
        } catch {
            await events.record(object, type: "Warning", reason: "Failed", message: "Error: \(Self.describe(error))", fieldPath: fieldPath)
            return ContainerWaiting(reason: "CreateContainerError", message: Self.describe(error))
        }
        await events.record(object, type: "Normal", reason: "Created", message: "Created container \(container.name)", fieldPath: fieldPath)
        do {
            try await runtime.startContainer(id)
        } catch {
            await events.record(object, type: "Warning", reason: "Failed", message: "Error: \(Self.describe(error))", fieldPath: fieldPath)
            return ContainerWaiting(reason: "RunContainerError", message: Self.describe(error))
        }
        if previous != nil { backoff.started(backoffKey(pod, container.name), now: Date()) }
        await events.record(object, type: "Normal", reason: "Started", message: "Started container \(container.name)", fieldPath: fieldPath)
        return nil
    }

    /// Kubernetes' default pull policy: `Always` for `:latest` or no tag, `IfNotPresent` otherwise.
    static func pullPolicy(_ container: Container) -> String {
        if let policy = container.imagePullPolicy, !policy.isEmpty { return policy }
        let image = container.image ?? ""
        if image.contains("@") { return "IfNotPresent" }
        let last = image.split(separator: "/").last ?? ""
        guard let colon = last.lastIndex(of: ":") else { return "Always" }
        return last[last.index(after: colon)...] == "latest" ? "Always" : "IfNotPresent"
    }

    private func ensureImage(_ container: Container, pod: Pod, fieldPath: String) async -> ContainerWaiting? {
        let image = container.image ?? ""
        let object = Unstructured(json: pod.json)
        let policy = Self.pullPolicy(container)
        let present = (try? await runtime.imageStatus(image)) ?? nil
        if policy == "Never" {
            guard present == nil else { return nil }
            let message = "Container image \"\(image)\" is not present with pull policy of Never"
            await events.record(object, type: "Warning", reason: "ErrImageNeverPull", message: message, fieldPath: fieldPath)
            return ContainerWaiting(reason: "ErrImageNeverPull", message: message)
        }
        if policy == "IfNotPresent", present != nil {
            return nil
        }
        let key = backoffKey(pod, container.name) + "/image"
        if let failure = pullFailures[key], pullBackoff.remaining(key, finishedAt: failure.at, now: Date()) != nil {
            return ContainerWaiting(reason: "ImagePullBackOff", message: "Back-off pulling image \"\(image)\": \(failure.message)")
        }
        await events.record(object, type: "Normal", reason: "Pulling", message: "Pulling image \"\(image)\"", fieldPath: fieldPath)
        let started = Date()
        do {
            _ = try await runtime.pullImage(image)
            pullFailures[key] = nil
            await events.record(object, type: "Normal", reason: "Pulled", message: "Successfully pulled image \"\(image)\" in \(String(format: "%.3f", Date().timeIntervalSince(started)))s", fieldPath: fieldPath)
            return nil
        } catch {
            let message = "Failed to pull image \"\(image)\": \(Self.describe(error))"
            pullFailures[key] = (Date(), message)
            pullBackoff.started(key, now: Date())
            await events.record(object, type: "Warning", reason: "Failed", message: message, fieldPath: fieldPath)
            return ContainerWaiting(reason: "ErrImagePull", message: message)
        }
    }

    /// The kubelet's rule for a pod whose sandbox is gone: a new one unless its containers
    /// already ran and the restart policy would not run them again.
    static func needsNewSandbox(_ pod: Pod, _ state: PodRuntimeState) -> Bool {
        let ran = pod.spec.containers.compactMap { state.latest($0.name) }
        guard !ran.isEmpty else { return true }
        switch pod.spec.restartPolicy {
        case "Never": return false
        case "OnFailure": return !(ran.count == pod.spec.containers.count && ran.allSatisfy { $0.state == .containerExited && $0.status.exitCode == 0 })
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

    /// The back-off still to wait before restarting `latest`, as the container's waiting state.
    private func restartDelay(_ pod: Pod, _ container: Container, _ latest: RuntimeContainer) -> (waiting: ContainerWaiting, remaining: Duration)? {
        let key = backoffKey(pod, container.name)
        let finished = PodStatusBuilder.date(latest.status.finishedAt)
        guard let remaining = backoff.remaining(key, finishedAt: finished, now: Date()) else { return nil }
        let delay = backoff.delay(key)
        let message = "back-off \(delay.components.seconds)s restarting failed container=\(container.name) pod=\(pod.metadata.name)_\(pod.metadata.namespace ?? "default")(\(pod.metadata.uid ?? ""))"
        return (ContainerWaiting(reason: "CrashLoopBackOff", message: message), remaining)
    }

    private func backoffKey(_ pod: Pod, _ container: String) -> String { "\(pod.metadata.uid ?? "")/\(container)" }

    /// Why a running container must be restarted: its spec changed, or its liveness or startup probe failed.
    private func killReason(_ pod: Pod, _ container: Container, _ latest: RuntimeContainer) async -> String? {
        if let hash = latest.summary.annotations[RuntimeLabels.containerHash], hash != RuntimeConfigBuilder.hash(container) {
            return "Container \(container.name) definition changed, will be restarted"
        }
        let uid = pod.metadata.uid ?? ""
        for kind in [ProbeManager.Kind.startup, .liveness] {
            let key = ProbeManager.Key(podUID: uid, container: container.name, kind: kind)
            if let result = await probes.result(key, containerID: latest.id), !result.passing {
                await events.record(Unstructured(json: pod.json), type: "Warning", reason: "Unhealthy",
                                    message: "\(kind == .startup ? "Startup" : "Liveness") probe failed: \(result.message)", fieldPath: "spec.containers{\(container.name)}")
                return "Container \(container.name) failed \(kind.rawValue) probe, will be restarted"
            }
        }
        return nil
    }

    /// Stops a running container as Kubernetes does: its `preStop` hook first
    /// (exec, httpGet or sleep), then SIGTERM, then SIGKILL when the rest of
    /// the grace period has passed.
    private func stop(_ pod: Pod, _ name: String, _ id: String, grace: Int64, message: String) async {
        await events.record(Unstructured(json: pod.json), type: "Normal", reason: "Killing", message: message, fieldPath: "spec.containers{\(name)}")
        let started = ContinuousClock.now
        if let container = (pod.spec.containers + pod.spec.initContainers).first(where: { $0.name == name }),
           let hook = container.json["lifecycle"]?["preStop"], grace > 0 {
            await runPreStop(hook, container: container, containerID: id, pod: pod, grace: grace)
        }
        let spent = (ContinuousClock.now - started).components.seconds
        do {
            try await runtime.stopContainer(id, timeout: max(0, grace - spent))
        } catch {
            logger.warning("stopping a container failed", metadata: ["container": "\(id)", "error": "\(error)"])
        }
    }

    private func runPreStop(_ hook: JSONValue, container: Container, containerID: String, pod: Pod, grace: Int64) async {
        let outcome: ProbeOutcome
        if let seconds = hook["sleep"]?["seconds"]?.intValue {
            try? await Task.sleep(for: .seconds(min(max(0, seconds), grace)))
            return
        } else if let exec = hook["exec"] {
            var probe = Probe(json: ["exec": exec])
            probe.timeoutSeconds = min(grace, 86_400)
            outcome = await ProbeManager.execute(probe, container: container, containerID: containerID, podIP: pod.status.podIP ?? "", runtime: runtime)
        } else if let http = hook["httpGet"] {
            var probe = Probe(json: ["httpGet": http])
            probe.timeoutSeconds = min(grace, 86_400)
            outcome = await ProbeManager.execute(probe, container: container, containerID: containerID, podIP: pod.status.podIP ?? "", runtime: runtime)
        } else {
            return
        }
        if case .failure(let message) = outcome {
            await events.record(Unstructured(json: pod.json), type: "Warning", reason: "FailedPreStopHook",
                                message: "PreStopHook failed: \(message)", fieldPath: "spec.containers{\(container.name)}")
        }
    }

    /// Stops every running container (in parallel, each with the grace period), then the sandbox.
    private func stopEverything(_ pod: Pod, state: PodRuntimeState, grace: Int64, reason: String?) async throws {
        let running = state.running
        await withTaskGroup(of: Void.self) { group in
            for container in running {
                group.addTask { await self.stop(pod, container.name, container.id, grace: grace, message: reason ?? "Stopping container \(container.name)") }
            }
        }
        for sandbox in state.sandboxes where sandbox.state == .sandboxReady {
            try await runtime.stopPodSandbox(sandbox.id)
        }
    }

    /// A pod marked for deletion: containers get their grace period, then
    /// everything is removed and the API object deleted for good.
    private func finishDeletion(_ pod: Pod) async throws {
        let uid = pod.metadata.uid ?? ""
        let grace = pod.metadata.json["deletionGracePeriodSeconds"]?.intValue ?? pod.spec.terminationGracePeriodSeconds
        // Read the runtime again: the sync's snapshot may predate a container it
        // started, which must get its grace period too, not a sandbox stop's kill.
        let current = try await runtimeState(uid: uid)
        try await stopEverything(pod, state: current, grace: grace, reason: nil)
        await probes.remove(podUID: uid)
        let stopped = try await runtimeState(uid: uid)
        await report(pod, state: stopped, waiting: [:])
        try await removeAll(uid: uid, state: stopped)
        do {
            _ = try await client.delete(BuiltinKinds.pod, namespace: pod.metadata.namespace, name: pod.metadata.name, options: DeleteOptions(gracePeriodSeconds: 0, preconditionUID: uid))
        } catch let error as APIError where error.code == 404 || error.code == 409 {
            // Already gone, or a new pod of the same name: nothing of ours to delete.
        }
        forget(uid: uid)
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
        forget(uid: uid)
    }

    private func removeAll(uid: String, state: PodRuntimeState) async throws {
        // Without a uid nothing identifies the pod's folders: never clean up "everything".
        guard !uid.isEmpty else { return }
        for container in state.containers { try await runtime.removeContainer(container.id) }
        for sandbox in state.sandboxes { try await runtime.removePodSandbox(sandbox.id) }
        volumes.cleanUp(uid)
        if let directory = try? FileManager.default.contentsOfDirectory(atPath: logRoot).first(where: { $0.hasSuffix("_" + uid) }) {
            try? FileManager.default.removeItem(atPath: logRoot + "/" + directory)
        }
    }

    private func forget(uid: String) {
        backoff.forget(prefix: uid + "/")
        pullFailures = pullFailures.filter { !$0.key.hasPrefix(uid + "/") }
        pullBackoff.forget(prefix: uid + "/")
        mounted[uid] = nil
        reported[uid] = nil
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

    // MARK: Status

    /// Writes the pod's status when it differs from what the API holds.
    @discardableResult
    private func report(_ pod: Pod, state: PodRuntimeState, waiting: [String: ContainerWaiting]) async -> PodStatus {
        let uid = pod.metadata.uid ?? ""
        var probeResults: [String: [ProbeManager.Kind: Bool]] = [:]
        for container in pod.spec.containers {
            guard let latest = state.latest(container.name) else { continue }
            for kind in ProbeManager.Kind.allCases {
                if let result = await probes.result(ProbeManager.Key(podUID: uid, container: container.name, kind: kind), containerID: latest.id) {
                    probeResults[container.name, default: [:]][kind] = result.passing
                }
            }
        }
        let builder = PodStatusBuilder(pod: pod, state: state, hostIP: hostIP, runtimeName: runtimeName, waiting: waiting, probes: probeResults, now: Date())
        let status = builder.status()
        let value = JSONValue.object(status.json)
        if value == .object(pod.status.json) || reported[uid] == value { return status }
        var patch: JSONObject = [:]
        for (key, newValue) in status.json { patch[key] = newValue }
        for key in pod.status.json.keys where status.json[key] == nil { patch[key] = .null }
        do {
            _ = try await client.patch(
                BuiltinKinds.pod, namespace: pod.metadata.namespace, name: pod.metadata.name,
                patch: .merge(["status": .object(patch)]),
                options: WriteOptions(fieldManager: "capstan-agent"), subresource: "status")
            reported[uid] = value
        } catch {
            logger.info("pod status not written", metadata: ["pod": "\(pod.metadata.namespace ?? "")/\(pod.metadata.name)", "error": "\(error)"])
        }
        return status
    }

    static func describe(_ error: any Error) -> String {
        // gRPC errors print their code and message; people want the message.
        if let rpc = error as? RPCError { return rpc.message }
        return "\(error)"
    }
}
