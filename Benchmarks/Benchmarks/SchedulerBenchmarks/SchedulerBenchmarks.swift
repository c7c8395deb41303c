import Benchmark
import CapstanCore
import CapstanScheduler
import Foundation

/// Scheduling throughput through the real scheduling code (plugins, snapshot,
/// indexes), with in-memory nodes and no store: the figures kube-scheduler's
/// scheduler_perf reports as pods/s.
///
/// Each scenario places every pod one at a time, adding it to the snapshot
/// before the next (as the Scheduler service's assume step does). Scenarios:
/// 500 nodes × 10,000 pods and 5,000 nodes × 30,000 pods, plain and with
/// required pod anti-affinity on `kubernetes.io/hostname` (groups of 10
/// replicas that refuse to share a node), each with kube-scheduler's adaptive
/// percentageOfNodesToScore and with every node scored (100%).
let benchmarks: @Sendable () -> Void = {
    let podsPerSecond = BenchmarkMetric.custom("pods/s", polarity: .prefersLarger, useScalingFactor: false)
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, podsPerSecond],
        // One pass is 10,000–30,000 decisions: no warm-up pass, at most two measured ones.
        warmupIterations: 0,
        scalingFactor: .one,
        maxDuration: .seconds(60),
        maxIterations: 2)

    struct Scenario {
        var nodes: Int
        var pods: Int
        var antiAffinity: Bool
        var percentage: Int?
    }
    var scenarios: [Scenario] = []
    for (nodes, pods) in [(500, 10_000), (5_000, 30_000)] {
        for antiAffinity in [false, true] {
            for percentage in [nil, 100] as [Int?] { scenarios.append(Scenario(nodes: nodes, pods: pods, antiAffinity: antiAffinity, percentage: percentage)) }
        }
    }
    let only = ProcessInfo.processInfo.environment["CAPSTAN_BENCH_SCHEDULER_FILTER"]

    for scenario in scenarios {
        let name = "Schedule \(scenario.pods) pods on \(scenario.nodes) nodes"
            + (scenario.antiAffinity ? ", anti-affinity" : "")
            + (scenario.percentage == nil ? ", adaptive node sampling" : ", all nodes scored")
        if let only, !name.contains(only) { continue }
        Benchmark(name, configuration: configuration) { benchmark in
            let nodes = (0..<scenario.nodes).map { index in
                NodeInfo(
                    name: String(format: "node-%05d", index),
                    labels: ["topology.kubernetes.io/zone": "zone-\(index % 3)"],
                    allocatable: Resources(milliCPU: 32_000, memory: 128 << 30), allowedPodCount: 110)
            }
            let pods = (0..<scenario.pods).map { makePod($0, antiAffinity: scenario.antiAffinity) }
            var schedulerConfiguration = SchedulerConfiguration()
            schedulerConfiguration.percentageOfNodesToScore = scenario.percentage
            for _ in benchmark.scaledIterations {
                var snapshot = ClusterSnapshot(nodes: nodes)
                var algorithm = SchedulingAlgorithm(configuration: schedulerConfiguration)
                var failed = 0
                let start = ContinuousClock.now
                benchmark.startMeasurement()
                for pod in pods {
                    switch algorithm.schedule(pod, in: snapshot) {
                    case .success(let result):
                        var placed = pod
                        placed.nodeName = result.nodeName
                        snapshot.addPod(placed)
                    case .failure:
                        failed += 1
                    }
                }
                benchmark.stopMeasurement()
                let elapsed = ContinuousClock.now - start
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                let rate = Double(pods.count) / seconds
                benchmark.measurement(podsPerSecond, Int(rate))
                print("\(name): \(Int(rate)) pods/s (\(pods.count - failed) placed, \(failed) unschedulable, \(String(format: "%.2f", seconds)) s)")
                blackHole(snapshot)
            }
        }
    }
}

/// A pod like a Deployment replica: small requests, an app label per group of
/// ten, and optionally required anti-affinity to its own group by hostname.
func makePod(_ index: Int, antiAffinity: Bool) -> PodInfo {
    let group = "app-\(index / 10)"
    var spec: JSONObject = [
        "containers": [["name": "app", "image": "registry.local/app:1", "resources": ["requests": ["cpu": "100m", "memory": "128Mi"]]]]
    ]
    if antiAffinity {
        spec["affinity"] = ["podAntiAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": [
            ["labelSelector": ["matchLabels": ["app": .string(group)]], "topologyKey": "kubernetes.io/hostname"]
        ]]]
    }
    let pod = Pod(json: [
        "apiVersion": "v1", "kind": "Pod",
        "metadata": ["name": .string("pod-\(index)"), "namespace": "default", "uid": .string("uid-\(index)"), "labels": ["app": .string(group)]],
        "spec": .object(spec),
    ])
    return PodInfo(pod)
}
