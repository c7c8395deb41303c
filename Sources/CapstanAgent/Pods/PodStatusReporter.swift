import CapstanAPI
import CapstanClient
import CapstanCore
import Logging
import OrderedCollections

/// Writes a pod's status to `pods/status` when it differs from what the API
/// holds (or from what this reporter last wrote, while the informer catches up).
actor PodStatusReporter {
    private let client: any ClusterClient
    private let probes: ProbeManager
    private let logger: Logger
    private let wallClock: any WallClock
    private let hostIP: String
    private let runtimeName: String
    private var reported: [String: JSONValue] = [:]

    init(client: any ClusterClient, probes: ProbeManager, logger: Logger, wallClock: any WallClock, hostIP: String, runtimeName: String) {
        self.client = client
        self.probes = probes
        self.logger = logger
        self.wallClock = wallClock
        self.hostIP = hostIP
        self.runtimeName = runtimeName
    }

    /// Builds the status from the runtime's `state` and writes it when it changed; returns it.
    @discardableResult
    func report(_ pod: Pod, state: PodRuntimeState, waiting: [String: ContainerWaiting]) async -> PodStatus {
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
        let builder = PodStatusBuilder(
            pod: pod, state: state, hostIP: hostIP, runtimeName: runtimeName, waiting: waiting, probes: probeResults, now: wallClock.currentDate)
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

    func forget(podUID: String) { reported[podUID] = nil }
}
