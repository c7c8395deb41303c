import CRIAPI
package import CapstanAPI
package import CapstanClient
package import CapstanCore
import Foundation
package import Logging
package import ServiceLifecycle

/// The node agent: registers this machine as a Node, heartbeats through its
/// Lease, and runs the pods bound to it through a CRI runtime on a unix
/// socket (Capstan's `capstan cri`, or containerd). What it starts, it finds
/// again after a restart: containers carry the pod's identity in labels, so
/// a restarted agent adopts running pods instead of restarting them.
package struct NodeAgent: ServiceLifecycle.Service {
    package struct Configuration: Sendable {
        package var nodeName: String
        /// The CRI runtime's socket.
        package var runtimeSocket: String
        /// Pod volumes (`pods/<uid>/volumes`) and the like; made 0700 (only the agent enters it).
        package var rootDirectory: String
        /// Container logs, `<namespace>_<pod>_<uid>/<container>/<restart>.log` as the kubelet lays them out; made 0700.
        package var logDirectory: String
        package var labels: [String: String] = [:]
        package var maxPods = 110
        /// How often the Lease is renewed (the kubelet's 10 s).
        package var heartbeatInterval: Duration = .seconds(10)
        package var leaseDurationSeconds: Int64 = 40
        /// Node status is posted when it changes, checked this often, and at least once a minute.
        package var statusInterval: Duration = .seconds(10)
        /// How often the runtime is listed to notice exited containers (the kubelet's PLEG relist).
        package var relistInterval: Duration = .seconds(1)
        /// The crash-loop back-off: the first restart is immediate, the next waits this long, doubling up to the maximum.
        package var restartBackoff: Duration = .seconds(10)
        package var maxRestartBackoff: Duration = .seconds(300)
        /// A failed image pull is retried after this long, doubling up to the maximum.
        package var imagePullBackoff: Duration = .seconds(10)
        package var maxImagePullBackoff: Duration = .seconds(300)
        /// How soon a pod is synced again when nothing reports a change.
        package var podSync = PodSyncIntervals()
        /// The node status is posted at least this often, changed or not.
        package var maxStatusAge: Duration = .seconds(60)
        /// Registering the node and creating its Lease are retried after this long, doubling up to the maximum.
        package var registrationRetry: Duration = .milliseconds(500)
        package var maxRegistrationRetry: Duration = .seconds(10)
        /// How often an unreachable runtime is asked again at start.
        package var runtimeRetry: Duration = .milliseconds(500)
        package var version = "capstan"
        /// The kubelet's `--seccomp-default`: containers whose pod names no seccomp
        /// profile run under the runtime's `RuntimeDefault` profile (privileged ones excepted).
        package var seccompDefault = true
        /// The cluster DNS Service's addresses pods resolve with (the kubelet's `--cluster-dns`);
        /// empty: pods get the node's resolv.conf.
        package var clusterDNS: [String] = []
        /// The cluster domain (the kubelet's `--cluster-domain`).
        package var clusterDomain = "cluster.local"
        /// The node's own resolvers (the kubelet's `--resolv-conf`), for `dnsPolicy: Default` and search domains.
        package var resolvConf = "/etc/resolv.conf"
        /// Where pods reach the API server, asked whenever a container starts (an
        /// embedded node learns the server's port only once it listens); nil sets
        /// no `KUBERNETES_SERVICE_*` variables.
        package var apiServerForPods: @Sendable () -> APIServerAddress? = { nil }

        package init(nodeName: String, runtimeSocket: String, rootDirectory: String, logDirectory: String? = nil) {
            self.nodeName = nodeName
            self.runtimeSocket = runtimeSocket
            self.rootDirectory = rootDirectory
            self.logDirectory = logDirectory ?? rootDirectory + "/logs"
        }
    }

    package let configuration: Configuration
    let client: any ClusterClient
    let logger: Logger
    let runtime: any RuntimeService
    /// The connection to the runtime's socket, run by ``run()``; nil when a runtime was given.
    let criClient: CRIClient?
    /// Every wait and interval of the agent: loops, back-offs, probes, grace periods.
    let clock: any Clock<Duration>
    /// The time of day: timestamps written to the API, back-offs measured from the runtime's times.
    let wallClock: any WallClock

    /// - Parameters:
    ///   - runtime: a runtime to use instead of connecting to `configuration.runtimeSocket` (tests).
    ///   - clock: what the agent waits on; tests pass a clock they advance.
    ///   - wallClock: the time of day; a test clock passes itself here too, so both move together.
    package init(
        configuration: Configuration, client: any ClusterClient, logger: Logger, runtime: (any RuntimeService)? = nil,
        clock: any Clock<Duration> = ContinuousClock(), wallClock: any WallClock = SystemWallClock()
    ) throws {
        self.configuration = configuration
        self.client = client
        self.logger = logger
        self.criClient = runtime == nil ? try CRIClient(socketPath: configuration.runtimeSocket) : nil
        self.runtime = runtime ?? criClient!
        self.clock = clock
        self.wallClock = wallClock
    }

    /// Logs and exec for this node's pods, for the API server's pod `log` and `exec` subresources.
    package var streaming: AgentPodStreaming {
        AgentPodStreaming(nodeName: configuration.nodeName, runtime: runtime, clock: clock, wallClock: wallClock)
    }

    package func run() async throws {
        var configuration = self.configuration
        try PrivateDirectory.make(configuration.rootDirectory)
        try PrivateDirectory.make(configuration.logDirectory)
        // Canonical paths: mounts are found again in /proc/self/mountinfo by their path.
        configuration.rootDirectory = Self.canonical(configuration.rootDirectory)
        configuration.logDirectory = Self.canonical(configuration.logDirectory)
        let resolved = configuration
        let criClient = self.criClient
        let runtime = self.runtime
        do {
            try await cancelWhenGracefulShutdown {
                try await withThrowingDiscardingTaskGroup { group in
                    if let criClient {
                        group.addTask { try await criClient.run() }
                    }
                    defer { criClient?.close() }
                    try await runNode(runtime: runtime, configuration: resolved)
                }
            }
        } catch is CancellationError {
            // Shutdown: containers keep running; the next start adopts them.
        }
        logger.notice("node agent stopped; containers keep running", metadata: ["node": "\(configuration.nodeName)"])
    }

    private func runNode(runtime: any RuntimeService, configuration: Configuration) async throws {
        let logger = self.logger
        let clock = self.clock
        let wallClock = self.wallClock
        let runtimeVersion = try await waitForRuntime(runtime)
        let machine = MachineInfo.read(storagePath: configuration.rootDirectory)
        let hostIP = machine.addresses.first ?? "127.0.0.1"
        let initialStatus = NodeStatusBuilder(
            nodeName: configuration.nodeName, machine: machine, runtimeVersion: "\(runtimeVersion.runtimeName)://\(runtimeVersion.runtimeVersion)",
            notReadyReason: nil, maxPods: configuration.maxPods, agentVersion: configuration.version, labels: configuration.labels, port: nil)
        let heartbeat = NodeHeartbeat(
            client: client, logger: logger, nodeName: configuration.nodeName, leaseDurationSeconds: configuration.leaseDurationSeconds,
            wallClock: wallClock)
        try await retrying("registering the node") { try await heartbeat.register(initialStatus) }
        try await retrying("creating the node's lease") { try await heartbeat.renewLease() }

        let events = EventRecorder(
            client: client, component: "kubelet", host: configuration.nodeName, logger: logger, now: { wallClock.currentDate })
        let volumes = VolumeManager(root: configuration.rootDirectory, canMount: getuid() == 0)
        let probes = ProbeManager(runtime: runtime, logger: logger, clock: clock, wallClock: wallClock)
        var syncing = PodSyncer.Configuration(nodeName: configuration.nodeName, logRoot: configuration.logDirectory)
        syncing.hostIP = hostIP
        syncing.runtimeName = runtimeVersion.runtimeName
        syncing.restartBackoff = RestartBackoff(initial: configuration.restartBackoff, maximum: configuration.maxRestartBackoff)
        syncing.imagePullBackoff = RestartBackoff(initial: configuration.imagePullBackoff, maximum: configuration.maxImagePullBackoff)
        syncing.intervals = configuration.podSync
        syncing.seccompDefault = configuration.seccompDefault
        syncing.dns = PodDNS(
            clusterDNS: configuration.clusterDNS, clusterDomain: configuration.clusterDomain,
            host: PodDNS.ResolverConfiguration(parsing: (try? String(contentsOfFile: configuration.resolvConf, encoding: .utf8)) ?? ""))
        syncing.apiServerForPods = configuration.apiServerForPods
        let syncer = PodSyncer(
            configuration: syncing, client: client, runtime: runtime, volumes: volumes, events: events, probes: probes, logger: logger,
            clock: clock, wallClock: wallClock)
        let workers = PodWorkers(syncer: syncer, logger: logger, clock: clock)

        var options = ListOptions()
        options.fieldSelector = try FieldSelector(parsing: "spec.nodeName=\(configuration.nodeName)")
        let pods = Informer<Pod>(client: client, kind: BuiltinKinds.pod, options: options, logger: logger)
        let changes = pods.changes()
        logger.notice(
            "node agent running",
            metadata: ["node": "\(configuration.nodeName)", "runtime": "\(runtimeVersion.runtimeName) \(runtimeVersion.runtimeVersion)"])

        let outcome: Result<Void, any Error>
        do {
            try await withTaskCancellationHandler {
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask { try await pods.run() }
                    group.addTask {
                        for await change in changes {
                            switch change {
                            case .added(let pod), .updated(_, let pod): await workers.update(pod)
                            case .deleted(let pod): await workers.deleted(uid: pod.metadata.uid ?? "")
                            }
                        }
                    }
                    group.addTask {
                        // A probe result that flips syncs its pod (a failed liveness probe restarts the container).
                        for await uid in probes.flips { await workers.poke(uid) }
                    }
                    group.addTask {
                        while !Task.isCancelled {
                            try await clock.sleep(for: configuration.heartbeatInterval)
                            do { try await heartbeat.renewLease() } catch { logger.warning("lease renewal failed", metadata: ["error": "\(error)"]) }
                        }
                    }
                    group.addTask {
                        try await Self.postStatusChanges(
                            heartbeat: heartbeat, initialStatus: initialStatus, runtime: runtime, configuration: configuration, clock: clock,
                            wallClock: wallClock,
                            logger: logger)
                    }
                    group.addTask {
                        await pods.waitForSync()
                        try await Self.relist(
                            runtime: runtime, workers: workers, apiPods: { Set(pods.list().compactMap(\.metadata.uid)) },
                            nodeName: configuration.nodeName,
                            interval: configuration.relistInterval, clock: clock, logger: logger)
                    }
                }
            } onCancel: {
                Task {
                    await workers.stopAll()
                    await probes.stopAll()
                }
            }
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        // Nothing keeps syncing (or probing) after the agent stops; containers keep running.
        await workers.stopAll()
        await probes.stopAll()
        try outcome.get()
    }

    /// Posts the node's status when a condition changes, checked every `statusInterval`, and at
    /// least every `maxStatusAge`.
    private static func postStatusChanges(
        heartbeat: NodeHeartbeat, initialStatus: NodeStatusBuilder, runtime: any RuntimeService, configuration: Configuration,
        clock: any Clock<Duration>, wallClock: any WallClock, logger: Logger
    ) async throws {
        var lastPosted = wallClock.currentDate
        var lastConditions: [String] = []
        var builder = initialStatus
        let maxAge = Double(configuration.maxStatusAge.components.seconds) + Double(configuration.maxStatusAge.components.attoseconds) / 1e18
        while !Task.isCancelled {
            try await clock.sleep(for: configuration.statusInterval)
            let reason = await notReadyReason(runtime)
            builder.machine = MachineInfo.read(storagePath: configuration.rootDirectory)
            builder.notReadyReason = reason
            let now = wallClock.currentDate
            let conditions = builder.conditions(previous: [], now: now).map { "\($0.type)=\($0.status)" }
            guard conditions != lastConditions || now.timeIntervalSince(lastPosted) >= maxAge else { continue }
            do {
                try await heartbeat.postStatus(builder)
                lastPosted = wallClock.currentDate
                lastConditions = conditions
            } catch {
                logger.warning("node status not posted", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Retries a step the agent cannot run without (the API server may not be up yet), as the kubelet does.
    private func retrying(_ what: String, _ step: () async throws -> Void) async throws {
        var delay = configuration.registrationRetry
        while true {
            do {
                return try await step()
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.warning("\(what) failed; retrying", metadata: ["error": "\(error)", "retry in": "\(delay)"])
                try await clock.sleep(for: delay)
                delay = min(delay * 2, configuration.maxRegistrationRetry)
            }
        }
    }

    private func waitForRuntime(_ runtime: any RuntimeService) async throws -> Runtime_V1_VersionResponseView {
        var warned = false
        while true {
            do {
                let version = try await runtime.version()
                return Runtime_V1_VersionResponseView(runtimeName: version.runtimeName, runtimeVersion: version.runtimeVersion)
            } catch {
                if !warned {
                    logger.notice("waiting for the container runtime", metadata: ["socket": "\(configuration.runtimeSocket)", "error": "\(error)"])
                    warned = true
                }
                try await clock.sleep(for: configuration.runtimeRetry)
            }
        }
    }

    static func canonical(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Why the node cannot run pods now, or nil.
    static func notReadyReason(_ runtime: any RuntimeService) async -> String? {
        do {
            _ = try await runtime.version()
            return nil
        } catch {
            return "container runtime is down: \(error)"
        }
    }

    /// Lists the runtime every interval and pokes the pods whose sandboxes or
    /// containers changed state, and pods the runtime has but the API no
    /// longer does (so they are cleaned up).
    static func relist(
        runtime: any RuntimeService, workers: PodWorkers, apiPods: @Sendable () -> Set<String>, nodeName: String, interval: Duration,
        clock: any Clock<Duration>, logger: Logger
    ) async throws {
        var previous: [String: String] = [:]
        while !Task.isCancelled {
            do {
                // Only what this agent made: other clients of a shared runtime (a kubelet, crictl) are left alone.
                let sandboxes = try await runtime.listPodSandboxes().filter { $0.labels[RuntimeLabels.managedBy] == nodeName }
                let containers = try await runtime.listContainers()
                var uidOfSandbox: [String: String] = [:]
                var fingerprints: [String: String] = [:]
                for sandbox in sandboxes {
                    let uid = sandbox.labels[RuntimeLabels.podUID] ?? sandbox.metadata.uid
                    guard !uid.isEmpty else { continue }
                    uidOfSandbox[sandbox.id] = uid
                    fingerprints[uid, default: ""] += "s\(sandbox.id):\(sandbox.state.rawValue);"
                }
                for container in containers.sorted(by: { $0.id < $1.id }) {
                    guard let uid = uidOfSandbox[container.podSandboxID] else { continue }
                    fingerprints[uid, default: ""] += "c\(container.id):\(container.state.rawValue);"
                }
                // A pod with a worker syncs when its containers changed. One without: an orphan only
                // when the API (the informer's cache) does not have it either — otherwise its worker
                // is on its way, and a restarted agent must not take a live pod for an orphan.
                let withWorkers = await workers.knownUIDs
                let inAPI = apiPods()
                for (uid, fingerprint) in fingerprints {
                    if withWorkers.contains(uid) {
                        if previous[uid] != fingerprint { await workers.poke(uid) }
                    } else if !inAPI.contains(uid) {
                        await workers.poke(uid)
                    }
                }
                previous = fingerprints
            } catch {
                logger.debug("runtime relist failed", metadata: ["error": "\(error)"])
            }
            try await clock.sleep(for: interval)
        }
    }
}

/// The two fields of the runtime's version the agent reports.
struct Runtime_V1_VersionResponseView: Sendable {
    var runtimeName: String
    var runtimeVersion: String
}
