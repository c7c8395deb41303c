import CapstanCore
import OrderedCollections
import Testing

@testable import CapstanAgent

/// The resolv.conf a pod gets, by dnsPolicy, as the kubelet writes it.
struct PodDNSTests {
    let dns = PodDNS(
        clusterDNS: ["10.96.0.10"], clusterDomain: "cluster.local",
        host: PodDNS.ResolverConfiguration(parsing: "# the machine's\nnameserver 192.0.2.53\nsearch corp.example\noptions edns0\n"))

    func pod(_ spec: JSONObject) -> Pod {
        var spec = spec
        spec["containers"] = [["name": "c", "image": "x"]]
        return Pod(json: ["metadata": ["name": "p", "namespace": "shop"], "spec": .object(spec)])
    }

    @Test func clusterFirstSearchesTheNamespaceThenTheClusterThenTheNode() {
        let config = dns.configuration(for: pod([:]))
        #expect(config.servers == ["10.96.0.10"])
        #expect(config.searches == ["shop.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example"])
        #expect(config.options == ["ndots:5"])
    }

    @Test func hostNetworkPodsGetTheNodesResolversUnlessTheyAskForTheCluster() {
        #expect(dns.configuration(for: pod(["hostNetwork": true])) == dns.host)
        #expect(dns.configuration(for: pod(["hostNetwork": true, "dnsPolicy": "ClusterFirstWithHostNet"])).servers == ["10.96.0.10"])
        #expect(dns.configuration(for: pod(["dnsPolicy": "Default"])) == dns.host)
    }

    @Test func noneTakesOnlyTheDNSConfigAndOptionsMergeByName() {
        let none = dns.configuration(
            for: pod([
                "dnsPolicy": "None",
                "dnsConfig": [
                    "nameservers": ["192.0.2.1"], "searches": ["a.example"], "options": [["name": "ndots", "value": "2"], ["name": "rotate"]],
                ],
            ]))
        #expect(none == PodDNS.ResolverConfiguration(servers: ["192.0.2.1"], searches: ["a.example"], options: ["ndots:2", "rotate"]))
        let merged = dns.configuration(
            for: pod(["dnsConfig": ["nameservers": ["10.96.0.10", "192.0.2.2"], "options": [["name": "ndots", "value": "1"]]]]))
        #expect(merged.servers == ["10.96.0.10", "192.0.2.2"] && merged.options == ["ndots:1"])
    }

    @Test func aNodeWithoutClusterDNSGivesTheNodesResolvers() {
        var plain = dns
        plain.clusterDNS = []
        #expect(plain.configuration(for: pod([:])) == dns.host)
    }

    @Test func atMostThreeServersAreKept() {
        let config = dns.configuration(for: pod(["dnsConfig": ["nameservers": ["192.0.2.1", "192.0.2.2", "192.0.2.3"]]]))
        #expect(config.servers == ["10.96.0.10", "192.0.2.1", "192.0.2.2"])
    }
}
