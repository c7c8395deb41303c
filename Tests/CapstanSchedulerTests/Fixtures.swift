import CapstanCore
import OrderedCollections

@testable import CapstanScheduler

/// A pod as the scheduler reads it, built from JSON the way the API stores it.
func makePod(
    _ name: String, namespace: String = "default", cpu: String? = nil, memory: String? = nil, labels: [String: String] = [:],
    spec extra: JSONObject = [:], containerPorts: [JSONValue] = [], image: String = "busybox"
) -> PodInfo {
    var requests: JSONObject = [:]
    if let cpu { requests["cpu"] = .string(cpu) }
    if let memory { requests["memory"] = .string(memory) }
    var container: JSONObject = ["name": "c", "image": .string(image)]
    if !requests.isEmpty { container["resources"] = ["requests": .object(requests)] }
    if !containerPorts.isEmpty { container["ports"] = .array(containerPorts) }
    var spec: JSONObject = ["containers": [.object(container)]]
    for (key, value) in extra { spec[key] = value }
    var metadata: JSONObject = ["name": .string(name), "namespace": .string(namespace), "uid": .string("uid-\(name)")]
    if !labels.isEmpty { metadata["labels"] = stringMap(labels) }
    return PodInfo(Pod(json: ["apiVersion": "v1", "kind": "Pod", "metadata": .object(metadata), "spec": .object(spec)]))
}

func makeNode(
    _ name: String, cpu: Int64 = 4000, memory: Int64 = 8 << 30, pods: Int = 110, labels: [String: String] = [:],
    taints: [TaintInfo] = [], unschedulable: Bool = false, readiness: String = "True", images: [String: Int64] = [:]
) -> NodeInfo {
    NodeInfo(
        name: name, labels: labels, taints: taints, unschedulable: unschedulable, readiness: readiness,
        allocatable: Resources(milliCPU: cpu, memory: memory), allowedPodCount: pods, images: images)
}

/// A placed copy of `pod` on `node`.
func placed(_ pod: PodInfo, on node: String) -> PodInfo {
    var copy = pod
    copy.nodeName = node
    return copy
}

/// Schedules with a deterministic profile: ties by name, every node looked at.
func schedule(_ pod: PodInfo, _ snapshot: ClusterSnapshot, _ adjust: (inout SchedulerConfiguration) -> Void = { _ in }) -> Result<
    ScheduleResult, FitError
> {
    var configuration = SchedulerConfiguration()
    configuration.tieBreak = .byName
    configuration.percentageOfNodesToScore = 100
    adjust(&configuration)
    var algorithm = SchedulingAlgorithm(configuration: configuration)
    return algorithm.schedule(pod, in: snapshot)
}

extension Result where Success == ScheduleResult, Failure == FitError {
    var node: String? { if case .success(let result) = self { result.nodeName } else { nil } }
    var message: String? { if case .failure(let error) = self { error.message } else { nil } }
}

func nodeAffinity(_ terms: [JSONValue]) -> JSONObject {
    ["affinity": ["nodeAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": ["nodeSelectorTerms": .array(terms)]]]]
}

func antiAffinity(_ labels: [String: String], topologyKey: String = "kubernetes.io/hostname") -> JSONObject {
    [
        "affinity": [
            "podAntiAffinity": [
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    ["labelSelector": ["matchLabels": stringMap(labels)], "topologyKey": .string(topologyKey)]
                ]
            ]
        ]
    ]
}

/// A JSON object of strings, keys sorted.
func stringMap(_ map: [String: String]) -> JSONValue {
    var object = JSONObject()
    for key in map.keys.sorted() { object[key] = .string(map[key]!) }
    return .object(object)
}
