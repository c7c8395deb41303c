import CapstanCore
import OrderedCollections
import Testing

@testable import CapstanScheduler

@Suite struct FilterPluginTests {
    @Test func resourcesFitPicksTheNodeWithRoom() {
        let snapshot = ClusterSnapshot(nodes: [makeNode("small", cpu: 1000), makeNode("big", cpu: 4000)])
        #expect(schedule(makePod("p", cpu: "2"), snapshot).node == "big")
        #expect(schedule(makePod("p", cpu: "5"), snapshot).message == "0/2 nodes are available: 2 Insufficient cpu.")
        #expect(schedule(makePod("p", memory: "9Gi"), snapshot).message == "0/2 nodes are available: 2 Insufficient memory.")
    }

    @Test func requestsOfPlacedPodsCount() {
        var snapshot = ClusterSnapshot(nodes: [makeNode("n1", cpu: 2000), makeNode("n2", cpu: 2000)])
        snapshot.addPod(placed(makePod("a", cpu: "1500m"), on: "n1"))
        #expect(schedule(makePod("p", cpu: "1"), snapshot).node == "n2")
        snapshot.addPod(placed(makePod("b", cpu: "1500m"), on: "n2"))
        #expect(schedule(makePod("p", cpu: "1"), snapshot).message == "0/2 nodes are available: 2 Insufficient cpu.")
        snapshot.removePod(key: "default/b")
        #expect(schedule(makePod("p", cpu: "1"), snapshot).node == "n2")
    }

    @Test func initContainersCountByTheLargestNotTheSum() {
        let initContainers: JSONValue = [
            ["name": "i1", "image": "busybox", "resources": ["requests": ["cpu": "3"]]],
            ["name": "i2", "image": "busybox", "resources": ["requests": ["cpu": "2"]]],
        ]
        let pod = makePod("p", cpu: "1", spec: ["initContainers": initContainers])
        #expect(pod.requests.milliCPU == 3000)
        let snapshot = ClusterSnapshot(nodes: [makeNode("n2", cpu: 2500), makeNode("n3", cpu: 3000)])
        #expect(schedule(pod, snapshot).node == "n3")
        // Containers summed beat the largest init container.
        let many = makePod(
            "q", cpu: "1",
            spec: [
                "containers": [
                    ["name": "a", "image": "busybox", "resources": ["requests": ["cpu": "2"]]],
                    ["name": "b", "image": "busybox", "resources": ["requests": ["cpu": "2"]]],
                ], "initContainers": initContainers,
            ])
        #expect(many.requests.milliCPU == 4000)
    }

    @Test func podCountIsALimit() {
        var snapshot = ClusterSnapshot(nodes: [makeNode("n", pods: 1)])
        snapshot.addPod(placed(makePod("a"), on: "n"))
        #expect(schedule(makePod("p"), snapshot).message == "0/1 nodes are available: 1 Too many pods.")
    }

    @Test func hostPortsConflictOnTheSameProtocolAndAddress() {
        var snapshot = ClusterSnapshot(nodes: [makeNode("n1"), makeNode("n2")])
        snapshot.addPod(placed(makePod("a", containerPorts: [["containerPort": 80, "hostPort": 8080]]), on: "n1"))
        snapshot.addPod(placed(makePod("b", containerPorts: [["containerPort": 80, "hostPort": 8080, "hostIP": "10.0.0.1"]]), on: "n2"))
        let wildcard = makePod("p", containerPorts: [["containerPort": 80, "hostPort": 8080]])
        #expect(schedule(wildcard, snapshot).message == "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports.")
        let otherIP = makePod("q", containerPorts: [["containerPort": 80, "hostPort": 8080, "hostIP": "10.0.0.2"]])
        #expect(schedule(otherIP, snapshot).node == "n2")
        let udp = makePod("u", containerPorts: [["containerPort": 80, "hostPort": 8080, "protocol": "UDP"]])
        #expect(schedule(udp, snapshot).node != nil)
    }

    @Test func nodeSelectorMustMatchEveryLabel() {
        let snapshot = ClusterSnapshot(nodes: [
            makeNode("a", labels: ["disk": "ssd", "zone": "1"]), makeNode("b", labels: ["disk": "ssd", "zone": "2"]),
        ])
        #expect(schedule(makePod("p", spec: ["nodeSelector": ["disk": "ssd", "zone": "2"]]), snapshot).node == "b")
        #expect(
            schedule(makePod("p", spec: ["nodeSelector": ["disk": "hdd"]]), snapshot).message
                == "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.")
    }

    static let operatorCases: [(JSONValue, [String])] = [
        (["matchExpressions": [["key": "zone", "operator": "In", "values": ["a", "b"]]]], ["n1", "n2"]),
        (["matchExpressions": [["key": "zone", "operator": "NotIn", "values": ["a"]]]], ["n2", "n3", "n4"]),
        (["matchExpressions": [["key": "gpu", "operator": "Exists"]]], ["n3"]),
        (["matchExpressions": [["key": "gpu", "operator": "DoesNotExist"]]], ["n1", "n2", "n4"]),
        (["matchExpressions": [["key": "cores", "operator": "Gt", "values": ["8"]]]], ["n2", "n3"]),
        (["matchExpressions": [["key": "cores", "operator": "Lt", "values": ["8"]]]], ["n1"]),
        (["matchFields": [["key": "metadata.name", "operator": "In", "values": ["n4"]]]], ["n4"]),
        (["matchFields": [["key": "metadata.name", "operator": "NotIn", "values": ["n1", "n2"]]]], ["n3", "n4"]),
        (
            [
                "matchExpressions": [["key": "zone", "operator": "In", "values": ["b"]]],
                "matchFields": [["key": "metadata.name", "operator": "In", "values": ["n1", "n2"]]],
            ], ["n2"]
        ),
    ]

    @Test(arguments: operatorCases)
    func requiredNodeAffinityOperators(term: JSONValue, expected: [String]) {
        let nodes = [
            makeNode("n1", labels: ["zone": "a", "cores": "4"]), makeNode("n2", labels: ["zone": "b", "cores": "16"]),
            makeNode("n3", labels: ["zone": "c", "cores": "32", "gpu": "1"]), makeNode("n4"),
        ]
        let pod = makePod("p", spec: nodeAffinity([term]))
        let state = CycleState(pod: pod)
        let fitting = nodes.filter { NodeAffinity().filter(state, $0) == nil }.map(\.name)
        #expect(fitting == expected)
    }

    @Test func nodeAffinityTermsAreAlternatives() {
        let snapshot = ClusterSnapshot(nodes: [makeNode("n1", labels: ["zone": "a"]), makeNode("n2", labels: ["zone": "b"])])
        let pod = makePod(
            "p",
            spec: nodeAffinity([
                ["matchExpressions": [["key": "zone", "operator": "In", "values": ["x"]]]],
                ["matchExpressions": [["key": "zone", "operator": "In", "values": ["b"]]]],
            ]))
        #expect(schedule(pod, snapshot).node == "n2")
        let bad = makePod("q", spec: nodeAffinity([["matchExpressions": [["key": "zone", "operator": "Near", "values": ["b"]]]]]))
        #expect(schedule(bad, snapshot).message?.contains("node selector operator \"Near\"") == true)
    }

    @Test func untoleratedTaintsKeepPodsAway() {
        let snapshot = ClusterSnapshot(nodes: [
            makeNode("tainted", taints: [TaintInfo(key: "dedicated", value: "db", effect: "NoSchedule")]),
            makeNode("evicting", taints: [TaintInfo(key: "maintenance", effect: "NoExecute")]),
        ])
        #expect(
            schedule(makePod("p"), snapshot).message
                == "0/2 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, 1 node(s) had untolerated taint {maintenance: }.")
        let tolerant = makePod("t", spec: ["tolerations": [["key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoSchedule"]]])
        #expect(schedule(tolerant, snapshot).node == "tainted")
        let wrongValue = makePod("w", spec: ["tolerations": [["key": "dedicated", "value": "web"]]])
        #expect(schedule(wrongValue, snapshot).node == nil)
        let everything = makePod("e", spec: ["tolerations": [["operator": "Exists"]]])
        #expect(schedule(everything, snapshot).node == "evicting")
    }

    @Test func preferNoScheduleIsAScoreNotAFilter() {
        let snapshot = ClusterSnapshot(nodes: [
            makeNode("a", taints: [TaintInfo(key: "spot", value: "true", effect: "PreferNoSchedule")]), makeNode("b"),
        ])
        #expect(schedule(makePod("p"), snapshot).node == "b")
        let only = ClusterSnapshot(nodes: [makeNode("a", taints: [TaintInfo(key: "spot", value: "true", effect: "PreferNoSchedule")])])
        #expect(schedule(makePod("p"), only).node == "a")
    }

    @Test func cordonedAndNotReadyNodesAreSkipped() {
        let snapshot = ClusterSnapshot(nodes: [
            makeNode("cordoned", unschedulable: true), makeNode("down", readiness: "False"), makeNode("lost", readiness: "Unknown"),
        ])
        #expect(
            schedule(makePod("p"), snapshot).message
                == "0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 1 node(s) were unschedulable."
        )
        let daemon = makePod("d", spec: ["tolerations": [["key": "node.kubernetes.io/not-ready", "operator": "Exists"]]])
        #expect(schedule(daemon, snapshot).node == "down")
        let cordonTolerant = makePod(
            "c", spec: ["tolerations": [["key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"]]])
        #expect(schedule(cordonTolerant, snapshot).node == "cordoned")
    }

    @Test func nodeNameIsHonoured() {
        let snapshot = ClusterSnapshot(nodes: [makeNode("a"), makeNode("b")])
        var pod = makePod("p")
        pod.nodeName = "b"
        #expect(schedule(pod, snapshot).node == "b")
    }

    @Test func requiredAntiAffinityKeepsReplicasApart() {
        var snapshot = ClusterSnapshot(nodes: [makeNode("n1"), makeNode("n2")])
        let labels = ["app": "web"]
        let first = makePod("web-1", labels: labels, spec: antiAffinity(labels))
        let node1 = schedule(first, snapshot).node!
        snapshot.addPod(placed(first, on: node1))
        let second = makePod("web-2", labels: labels, spec: antiAffinity(labels))
        let node2 = schedule(second, snapshot).node!
        #expect(node2 != node1)
        snapshot.addPod(placed(second, on: node2))
        let third = makePod("web-3", labels: labels, spec: antiAffinity(labels))
        #expect(schedule(third, snapshot).message == "0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules.")
        // A plain pod with the label is kept away by the existing pods' anti-affinity.
        #expect(
            schedule(makePod("plain", labels: labels), snapshot).message
                == "0/2 nodes are available: 2 node(s) didn't satisfy existing pods anti-affinity rules.")
        // Other namespaces are not affected.
        #expect(schedule(makePod("other", namespace: "prod", labels: labels), snapshot).node != nil)
        snapshot.removePod(key: "default/web-2")
        #expect(schedule(third, snapshot).node == node2)
        // Once the last pod holding the term is gone, the term no longer applies.
        snapshot.removePod(key: "default/web-1")
        #expect(schedule(makePod("plain", labels: labels), snapshot).node == "n1")
        // A term that requires no single value (Exists) is still found.
        let exists: JSONObject = [
            "affinity": [
                "podAntiAffinity": [
                    "requiredDuringSchedulingIgnoredDuringExecution": [
                        ["labelSelector": ["matchExpressions": [["key": "app", "operator": "Exists"]]], "topologyKey": "kubernetes.io/hostname"]
                    ]
                ]
            ]
        ]
        snapshot.addPod(placed(makePod("loner", labels: ["role": "x"], spec: exists), on: "n1"))
        #expect(schedule(makePod("plain2", labels: labels), snapshot).node == "n2")
        #expect(schedule(makePod("plain3", labels: ["app": "other"]), snapshot).node == "n2")
        #expect(schedule(makePod("unlabelled", spec: ["nodeSelector": ["kubernetes.io/hostname": "n1"]]), snapshot).node == "n1")
    }

    @Test func antiAffinityByZoneUsesTheTopologyKey() {
        var snapshot = ClusterSnapshot(nodes: [
            makeNode("a1", labels: ["zone": "a"]), makeNode("a2", labels: ["zone": "a"]), makeNode("b1", labels: ["zone": "b"]),
        ])
        snapshot.addPod(placed(makePod("db-0", labels: ["app": "db"]), on: "a1"))
        let pod = makePod("db-1", labels: ["app": "db"], spec: antiAffinity(["app": "db"], topologyKey: "zone"))
        #expect(schedule(pod, snapshot).node == "b1")
    }

    @Test func requiredAffinityFollowsThePodsItWants() {
        var snapshot = ClusterSnapshot(nodes: [makeNode("n1", labels: ["zone": "a"]), makeNode("n2", labels: ["zone": "b"])])
        let affinity: JSONObject = [
            "affinity": [
                "podAffinity": [
                    "requiredDuringSchedulingIgnoredDuringExecution": [
                        ["labelSelector": ["matchExpressions": [["key": "app", "operator": "In", "values": ["cache"]]]], "topologyKey": "zone"]
                    ]
                ]
            ]
        ]
        // Nobody matches yet, and the pod does not match itself: nowhere.
        #expect(
            schedule(makePod("web", labels: ["app": "web"], spec: affinity), snapshot).message
                == "0/2 nodes are available: 2 node(s) didn't match pod affinity rules.")
        // The first of a group that matches itself may go anywhere.
        #expect(schedule(makePod("cache-0", labels: ["app": "cache"], spec: affinity), snapshot).node != nil)
        snapshot.addPod(placed(makePod("cache-0", labels: ["app": "cache"]), on: "n2"))
        #expect(schedule(makePod("web", labels: ["app": "web"], spec: affinity), snapshot).node == "n2")
    }

    @Test func hardSpreadConstraintLimitsSkew() {
        var snapshot = ClusterSnapshot(nodes: [makeNode("a", labels: ["zone": "a"]), makeNode("b", labels: ["zone": "b"])])
        for index in 0..<2 { snapshot.addPod(placed(makePod("w\(index)", labels: ["app": "w"]), on: "a")) }
        let spread: JSONObject = [
            "topologySpreadConstraints": [
                ["maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule", "labelSelector": ["matchLabels": ["app": "w"]]]
            ]
        ]
        // Zone a has 2, b has 0: only b keeps the skew within 1.
        let result = schedule(makePod("w2", labels: ["app": "w"], spec: spread), snapshot, { $0.weights = [:] })
        #expect(result.node == "b")
        let full = ClusterSnapshot(nodes: [
            makeNode("a", labels: ["zone": "a"]), makeNode("b", labels: ["zone": "b"], taints: [TaintInfo(key: "x", effect: "NoSchedule")]),
        ])
        var crowded = full
        for index in 0..<2 { crowded.addPod(placed(makePod("w\(index)", labels: ["app": "w"]), on: "a")) }
        #expect(
            schedule(makePod("w2", labels: ["app": "w"], spec: spread), crowded).message
                == "0/2 nodes are available: 1 node(s) didn't match pod topology spread constraints, 1 node(s) had untolerated taint {x: }.")
    }
}
