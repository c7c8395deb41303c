import CapstanCore
import Foundation
import OrderedCollections
import Testing

@testable import CapstanScheduler

@Suite struct ScorePluginTests {
    /// n1 is half full, n2 empty: spreading picks n2, bin packing n1.
    @Test func leastAndMostAllocatedChooseOppositeNodes() {
        var snapshot = ClusterSnapshot(nodes: [makeNode("n1", cpu: 4000, memory: 8 << 30), makeNode("n2", cpu: 4000, memory: 8 << 30)])
        snapshot.addPod(placed(makePod("a", cpu: "2", memory: "4Gi"), on: "n1"))
        let pod = makePod("p", cpu: "1", memory: "1Gi")
        #expect(schedule(pod, snapshot) { $0.scoringStrategy = .leastAllocated }.node == "n2")
        #expect(schedule(pod, snapshot) { $0.scoringStrategy = .mostAllocated }.node == "n1")
    }

    @Test func binPackingFillsOneNodeBeforeTheNext() {
        var snapshot = ClusterSnapshot(nodes: (1...3).map { makeNode("n\($0)", cpu: 2000, memory: 4 << 30) })
        var configuration = SchedulerConfiguration()
        configuration.scoringStrategy = .mostAllocated
        configuration.tieBreak = .byName
        var algorithm = SchedulingAlgorithm(configuration: configuration)
        var placements: [String] = []
        for index in 0..<6 {
            let pod = makePod("p\(index)", cpu: "1", memory: "1Gi")
            guard case .success(let result) = algorithm.schedule(pod, in: snapshot) else {
                Issue.record("unschedulable")
                return
            }
            snapshot.addPod(placed(pod, on: result.nodeName))
            placements.append(result.nodeName)
        }
        #expect(placements == ["n1", "n1", "n2", "n2", "n3", "n3"])
    }

    @Test func resourceScoresFollowTheFormulas() {
        #expect(NodeResourcesFit.resourceScore(requested: 1000, capacity: 4000, .leastAllocated) == 75)
        #expect(NodeResourcesFit.resourceScore(requested: 1000, capacity: 4000, .mostAllocated) == 25)
        #expect(NodeResourcesFit.resourceScore(requested: 5000, capacity: 4000, .leastAllocated) == 0)
        // Balanced: equal shares score 100, 50% apart score 75.
        let node = makeNode("n", cpu: 4000, memory: 4 << 30)
        let even = CycleState(pod: makePod("p", cpu: "2", memory: "2Gi"))
        #expect(BalancedAllocation().score(even, node, ClusterSnapshot()) == 100)
        let skewed = CycleState(pod: makePod("p", cpu: "3", memory: "1Gi"))
        #expect(BalancedAllocation().score(skewed, node, ClusterSnapshot()) == 75)
    }

    @Test func balancedAllocationPrefersTheNodeItEvensOut() {
        var snapshot = ClusterSnapshot(nodes: [makeNode("cpu-heavy", cpu: 4000, memory: 4 << 30), makeNode("mem-heavy", cpu: 4000, memory: 4 << 30)])
        snapshot.addPod(placed(makePod("a", cpu: "2", memory: "256Mi"), on: "cpu-heavy"))
        snapshot.addPod(placed(makePod("b", cpu: "250m", memory: "2Gi"), on: "mem-heavy"))
        // A memory-hungry pod evens out the CPU-heavy node.
        #expect(
            schedule(makePod("p", cpu: "250m", memory: "1800Mi"), snapshot) { $0.weights = ["NodeResourcesBalancedAllocation": 1] }.node
                == "cpu-heavy")
    }

    @Test func softSpreadPrefersTheEmptiestZone() {
        var snapshot = ClusterSnapshot(nodes: [
            makeNode("a", labels: ["zone": "a"]), makeNode("b", labels: ["zone": "b"]), makeNode("c", labels: ["zone": "c"]),
        ])
        snapshot.addPod(placed(makePod("w0", labels: ["app": "w"]), on: "a"))
        snapshot.addPod(placed(makePod("w1", labels: ["app": "w"]), on: "b"))
        snapshot.addPod(placed(makePod("w2", labels: ["app": "w"]), on: "b"))
        // Zone c is the busiest by resources, so only the spread score can pick it.
        snapshot.addPod(placed(makePod("other", cpu: "2", memory: "4Gi"), on: "c"))
        let spread: JSONObject = [
            "topologySpreadConstraints": [
                ["maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": ["matchLabels": ["app": "w"]]]
            ]
        ]
        #expect(schedule(makePod("w3", labels: ["app": "w"], spec: spread), snapshot).node == "c")
        // Without the constraint the least allocated node wins.
        #expect(schedule(makePod("w3", labels: ["app": "w"]), snapshot).node == "a")
    }

    @Test func imageLocalityPrefersNodesWithTheImage() {
        let size: Int64 = 500 << 20
        let snapshot = ClusterSnapshot(nodes: [
            makeNode("a"), makeNode("b", images: ["docker.io/library/postgres:16": size]), makeNode("c"),
        ])
        #expect(schedule(makePod("p", image: "postgres:16"), snapshot).node == "b")
        #expect(schedule(makePod("p", image: "redis:7"), snapshot).node == "a")
    }

    @Test func preferredNodeAffinityWeighs() {
        let snapshot = ClusterSnapshot(nodes: [makeNode("a", labels: ["disk": "hdd"]), makeNode("b", labels: ["disk": "ssd"])])
        let preferred: JSONObject = [
            "affinity": [
                "nodeAffinity": [
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        ["weight": 50, "preference": ["matchExpressions": [["key": "disk", "operator": "In", "values": ["ssd"]]]]]
                    ]
                ]
            ]
        ]
        #expect(schedule(makePod("p", spec: preferred), snapshot).node == "b")
    }

    @Test func randomTieBreakIsReproducibleAndSpreadsTies() {
        let snapshot = ClusterSnapshot(nodes: (0..<8).map { makeNode("n\($0)") })
        func run(seed: UInt64) -> [String] {
            var configuration = SchedulerConfiguration()
            configuration.tieBreak = .random(seed: seed)
            var algorithm = SchedulingAlgorithm(configuration: configuration)
            return (0..<20).map { algorithm.schedule(makePod("p\($0)"), in: snapshot).node ?? "" }
        }
        #expect(run(seed: 1) == run(seed: 1))
        #expect(Set(run(seed: 1)).count > 1)
    }
}

@Suite struct FailureMessageTests {
    @Test func failedSchedulingMessageCountsReasonsPerNode() {
        let snapshot = ClusterSnapshot(nodes: [
            makeNode("n1", cpu: 1000), makeNode("n2", cpu: 1000),
            makeNode("n3", taints: [TaintInfo(key: "key", value: "value", effect: "NoSchedule")]),
        ])
        let result = schedule(makePod("p", cpu: "2"), snapshot)
        #expect(result.message == "0/3 nodes are available: 1 node(s) had untolerated taint {key: value}, 2 Insufficient cpu.")
    }

    @Test func aNodeShortOfSeveralResourcesCountsEach() {
        let snapshot = ClusterSnapshot(nodes: [makeNode("n1", cpu: 1000, memory: 1 << 30), makeNode("n2", cpu: 8000, memory: 1 << 30)])
        #expect(
            schedule(makePod("p", cpu: "2", memory: "2Gi"), snapshot).message
                == "0/2 nodes are available: 1 Insufficient cpu, 2 Insufficient memory.")
    }

    @Test func noNodesAtAll() {
        #expect(schedule(makePod("p"), ClusterSnapshot()).message == "no nodes available to schedule pods")
    }
}

@Suite struct NodeSamplingTests {
    @Test(arguments: [(50, 50), (100, 100), (500, 230), (1000, 420), (5000, 500), (6000, 300), (10000, 500), (100000, 5000)])
    func adaptivePercentageOfNodesToScore(nodes: Int, expected: Int) {
        #expect(numberOfFeasibleNodesToFind(nodeCount: nodes, percentage: nil) == expected)
    }

    @Test func configuredPercentageStillLooksAtAHundredNodes() {
        #expect(numberOfFeasibleNodesToFind(nodeCount: 5000, percentage: 1) == 100)
        #expect(numberOfFeasibleNodesToFind(nodeCount: 5000, percentage: 30) == 1500)
        #expect(numberOfFeasibleNodesToFind(nodeCount: 5000, percentage: 100) == 5000)
    }

    @Test func roundRobinStartsWhereTheLastCycleStopped() {
        let snapshot = ClusterSnapshot(nodes: (0..<1000).map { makeNode(String(format: "n%04d", $0)) })
        var configuration = SchedulerConfiguration()
        configuration.tieBreak = .byName
        var algorithm = SchedulingAlgorithm(configuration: configuration)
        guard case .success(let first) = algorithm.schedule(makePod("a"), in: snapshot),
            case .success(let second) = algorithm.schedule(makePod("b"), in: snapshot)
        else {
            Issue.record("unschedulable")
            return
        }
        #expect(first.evaluatedNodes == 420 && first.feasibleNodes == 420)
        // All nodes tie; by name the first of each window wins, and the window moved.
        #expect(first.nodeName == "n0000")
        #expect(second.nodeName == "n0420")
    }
}
