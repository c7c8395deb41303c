import CapstanCore
import OrderedCollections
import Testing

@testable import CapstanControllers

/// Which pods stand behind a Service, and on which ports.
struct EndpointsTests {
    func pod(_ name: String, ip: String?, ready: Bool, port: Int64 = 8080, labels: [String: String] = ["app": "web"], deleting: Bool = false) -> Pod {
        var pod = Pod(json: [
            "metadata": ["name": .string(name), "namespace": "shop", "uid": .string("uid-" + name)],
            "spec": ["nodeName": "n1", "containers": [["name": "c", "ports": [["name": "http", "containerPort": .int(port)]]]]],
            "status": ["phase": "Running", "conditions": [["type": "Ready", "status": .string(ready ? "True" : "False")]]],
        ])
        pod.metadata.labels = labels
        if let ip { pod.status.podIP = ip }
        if deleting { pod.metadata.deletionTimestamp = "2026-01-01T00:00:00Z" }
        return pod
    }

    let service = Service(json: [
        "metadata": ["name": "web", "namespace": "shop"],
        "spec": ["selector": ["app": "web"], "ports": [["name": "http", "port": 80, "targetPort": "http"]]],
    ])

    @Test func readyAndUnreadyPodsWithNamedPorts() {
        let subsets = EndpointsBuilder.subsets(
            for: service,
            pods: [
                pod("a", ip: "10.0.0.1", ready: true), pod("b", ip: "10.0.0.2", ready: false),
                pod("c", ip: nil, ready: false), pod("d", ip: "10.0.0.4", ready: true, labels: ["app": "other"]),
                pod("e", ip: "10.0.0.5", ready: true, deleting: true), pod("f", ip: "10.0.0.6", ready: true, port: 9090),
            ])
        #expect(subsets.count == 2)
        #expect(subsets[0]["addresses"]?.arrayValue?.compactMap { $0["ip"]?.stringValue } == ["10.0.0.1"])
        #expect(subsets[0]["notReadyAddresses"]?.arrayValue?.compactMap { $0["ip"]?.stringValue } == ["10.0.0.2"])
        #expect(subsets[0]["ports"]?[0]?["port"]?.intValue == 8080)
        #expect(subsets[1]["ports"]?[0]?["port"]?.intValue == 9090)
        #expect(subsets[0]["addresses"]?[0]?["targetRef"]?["name"]?.stringValue == "a")
    }

    @Test func publishNotReadyAddressesListsUnreadyPodsAsAddresses() {
        var headless = service
        headless.spec.json["publishNotReadyAddresses"] = true
        let subsets = EndpointsBuilder.subsets(for: headless, pods: [pod("a", ip: "10.0.0.1", ready: false)])
        #expect(subsets.first?["addresses"]?.arrayValue?.count == 1 && subsets.first?["notReadyAddresses"] == nil)
    }

    @Test func aServiceWithoutSelectorGetsNone() {
        var headless = service
        headless.spec.selector = [:]
        #expect(EndpointsBuilder.subsets(for: headless, pods: [pod("a", ip: "10.0.0.1", ready: true)]).isEmpty)
    }
}
