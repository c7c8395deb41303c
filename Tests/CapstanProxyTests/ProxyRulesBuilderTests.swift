import CapstanCore
import CapstanDNS
import CapstanProxy
import OrderedCollections
import Testing

/// Which endpoints a node's proxy sends a Service to, and what cluster DNS answers from.
struct ProxyRulesBuilderTests {
    static func service(_ name: String, clusterIP: String, type: String = "ClusterIP", nodePort: Int64? = nil, affinity: Bool = false) -> Service {
        var port: JSONObject = ["name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"]
        if let nodePort { port["nodePort"] = .int(nodePort) }
        var spec: JSONObject = ["type": .string(type), "clusterIP": .string(clusterIP), "ports": [.object(port)], "selector": ["app": "web"]]
        if affinity { spec["sessionAffinity"] = "ClientIP" }
        return Service(json: ["metadata": ["name": .string(name), "namespace": "demo"], "spec": .object(spec)])
    }

    static func endpoint(
        _ ip: String, node: String = "n1", ready: Bool = true, serving: Bool = true, terminating: Bool = false, hostname: String? = nil
    )
        -> JSONValue
    {
        var endpoint: JSONObject = [
            "addresses": [.string(ip)], "nodeName": .string(node),
            "conditions": ["ready": .bool(ready), "serving": .bool(serving), "terminating": .bool(terminating)],
            "targetRef": ["kind": "Pod", "namespace": "demo", "name": .string("pod-" + ip)],
        ]
        if let hostname { endpoint["hostname"] = .string(hostname) }
        return .object(endpoint)
    }

    static func slice(_ service: String, _ endpoints: [JSONValue], port: Int64 = 8080) -> EndpointSlice {
        EndpointSlice(json: [
            "metadata": ["name": .string(service + "-x"), "namespace": "demo", "labels": ["kubernetes.io/service-name": .string(service)]],
            "addressType": "IPv4", "endpoints": .array(endpoints), "ports": [["name": "http", "port": .int(port), "protocol": "TCP"]],
        ])
    }

    @Test func readyLocalEndpointsAtTheirTargetPort() {
        let rules = ProxyRulesBuilder.rules(
            services: [Self.service("web", clusterIP: "10.96.5.5", type: "NodePort", nodePort: 30080)],
            slices: [
                Self.slice(
                    "web",
                    [Self.endpoint("10.88.0.2"), Self.endpoint("10.88.0.3", ready: false, serving: false), Self.endpoint("10.88.9.9", node: "n2")])
            ],
            nodeName: "n1")
        #expect(
            rules == [
                ServicePortRule(
                    name: "demo/web:http", clusterIP: "10.96.5.5", port: 80, transport: "tcp", nodePort: 30080,
                    endpoints: [.init(ip: "10.88.0.2", port: 8080)])
            ])
    }

    @Test func terminatingButServingEndpointsTakeOverOnlyWhenNoneIsReady() {
        let terminating = Self.endpoint("10.88.0.4", ready: false, serving: true, terminating: true)
        let withReady = ProxyRulesBuilder.rules(
            services: [Self.service("web", clusterIP: "10.96.5.5")], slices: [Self.slice("web", [Self.endpoint("10.88.0.2"), terminating])],
            nodeName: "n1")
        #expect(withReady.first?.endpoints.map(\.ip) == ["10.88.0.2"])
        let onlyTerminating = ProxyRulesBuilder.rules(
            services: [Self.service("web", clusterIP: "10.96.5.5")], slices: [Self.slice("web", [terminating])], nodeName: "n1")
        #expect(onlyTerminating.first?.endpoints.map(\.ip) == ["10.88.0.4"])
    }

    @Test func headlessAndExternalNameServicesHaveNoRulesAndDNSGoesToTheNode() {
        let external = Service(json: [
            "metadata": ["name": "ext", "namespace": "demo"], "spec": ["type": "ExternalName", "externalName": "example.com"],
        ])
        let dnsService = Service(json: [
            "metadata": ["name": "kube-dns", "namespace": "kube-system"],
            "spec": [
                "clusterIP": "10.96.0.10",
                "ports": [["name": "dns", "port": 53, "protocol": "UDP"], ["name": "dns-tcp", "port": 53, "protocol": "TCP"]],
            ],
        ])
        let rules = ProxyRulesBuilder.rules(
            services: [Self.service("db", clusterIP: "None"), external, dnsService], slices: [], nodeName: "n1",
            nodeLocalDNS: .init(ip: "169.254.20.10", port: 53))
        #expect(rules.map(\.name) == ["kube-system/kube-dns:dns", "kube-system/kube-dns:dns-tcp"])
        #expect(rules.allSatisfy { $0.endpoints == [.init(ip: "169.254.20.10", port: 53)] })
    }

    @Test func endpointsThatAreNotPodsAreKeptWhereverTheyAre() {
        let apiServer: JSONValue = ["addresses": ["192.0.2.10"], "conditions": ["ready": true]]
        let rules = ProxyRulesBuilder.rules(
            services: [Self.service("api", clusterIP: "10.96.0.1")], slices: [Self.slice("api", [apiServer], port: 6443)], nodeName: "n1")
        #expect(rules.first?.endpoints == [.init(ip: "192.0.2.10", port: 6443)])
    }

    @Test func clientIPAffinityDefaultsToThreeHours() {
        let rules = ProxyRulesBuilder.rules(
            services: [Self.service("web", clusterIP: "10.96.5.5", affinity: true)], slices: [Self.slice("web", [Self.endpoint("10.88.0.2")])],
            nodeName: "n1")
        #expect(rules.first?.affinitySeconds == 10800)
    }

    @Test func dnsRecordsHoldClusterIPsReadyHeadlessEndpointsAndExternalNames() {
        let external = Service(json: [
            "metadata": ["name": "ext", "namespace": "demo"], "spec": ["type": "ExternalName", "externalName": "example.com"],
        ])
        let records = ClusterDNSSnapshot.records(
            services: [Self.service("web", clusterIP: "10.96.5.5"), Self.service("db", clusterIP: "None"), external],
            slices: [Self.slice("db", [Self.endpoint("10.88.0.7", hostname: "db-0"), Self.endpoint("10.88.0.8", ready: false, serving: false)])],
            pods: [], serial: 3)
        #expect(records.services.map(\.name) == ["web", "db", "ext"])
        #expect(records.services[0].clusterIPs == ["10.96.5.5"] && records.services[0].ports == [ClusterDNSRecords.Port(name: "http", port: 80)])
        #expect(records.services[1].endpoints == [ClusterDNSRecords.Endpoint(ip: "10.88.0.7", hostname: "db-0")])
        #expect(records.services[1].ports == [ClusterDNSRecords.Port(name: "http", port: 8080)])
        #expect(records.services[2].externalName == "example.com")
    }

    /// What the API server might have let through never reaches the table: special and
    /// oddly written addresses, a NodePort two Services claim (the older keeps it), an
    /// address outside the service range, an affinity timeout out of bounds.
    @Test func hostileObjectsCannotBreakTheTable() {
        var first = Self.service("first", clusterIP: "10.96.5.5", type: "NodePort", nodePort: 30080)
        first.metadata.creationTimestamp = "2026-01-01T00:00:00Z"
        var second = Self.service("second", clusterIP: "10.96.5.6", type: "NodePort", nodePort: 30080, affinity: true)
        second.metadata.creationTimestamp = "2026-01-02T00:00:00Z"
        second.spec.json["sessionAffinityConfig"] = ["clientIP": ["timeoutSeconds": -5]]
        let outside = Self.service("outside", clusterIP: "192.0.2.5")
        let slices = [
            Self.slice("first", ["127.0.0.1", "169.254.20.10", "+10.88.0.2", "10.88.0.2"].map { Self.endpoint($0) }),
            Self.slice("second", [Self.endpoint("10.88.0.3")]),
        ]
        let rules = ProxyRulesBuilder.rules(
            services: [second, outside, first], slices: slices, nodeName: "n1", serviceRange: IPv4Network("10.96.0.0/16")!)
        #expect(rules.map(\.name) == ["demo/first:http", "demo/second:http"])
        #expect(rules[0].endpoints == [.init(ip: "10.88.0.2", port: 8080)] && rules[0].nodePort == 30080)
        #expect(rules[1].nodePort == nil && rules[1].affinitySeconds == 1)
    }
}
