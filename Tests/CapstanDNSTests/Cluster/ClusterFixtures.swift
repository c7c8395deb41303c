@testable import CapstanDNS

/// A small cluster: a dual-stack ClusterIP service, a headless one with named and unnamed endpoints, two
/// ExternalName services, an empty headless one, and pods.
enum ClusterFixtures {
    static let records = ClusterDNSRecords(
        services: [
            ClusterDNSRecords.Service(
                namespace: "default", name: "web", clusterIPs: ["10.96.0.10", "fd00::10"],
                ports: [
                    ClusterDNSRecords.Port(name: "http", protocol: .tcp, port: 80),
                    ClusterDNSRecords.Port(name: "dns", protocol: .udp, port: 53),
                ]),
            .headless(
                namespace: "default", name: "db", ports: [ClusterDNSRecords.Port(name: "postgres", port: 5432)],
                endpoints: [
                    ClusterDNSRecords.Endpoint(ip: "10.1.0.1", hostname: "db-0"),
                    ClusterDNSRecords.Endpoint(ip: "10.1.0.2", hostname: "db-1"),
                    ClusterDNSRecords.Endpoint(ip: "10.1.0.3", hostname: "db-2", ready: false),
                    ClusterDNSRecords.Endpoint(ip: "10.1.0.4"),
                ]),
            .externalName(namespace: "default", name: "ext", externalName: "example.com"),
            .externalName(namespace: "default", name: "alias", externalName: "web.default.svc.cluster.local"),
            .headless(namespace: "default", name: "empty", endpoints: [ClusterDNSRecords.Endpoint(ip: "10.1.0.30", ready: false)]),
        ],
        pods: [
            ClusterDNSRecords.Pod(namespace: "default", ips: ["10.1.0.9"], hostname: "pod-a", subdomain: "db"),
            ClusterDNSRecords.Pod(namespace: "kube-system", ips: ["10.1.0.20"]),
        ],
        serial: 42)

    static func query(_ name: String, _ type: DNSType, id: UInt16 = 0x4242) -> DNSMessage {
        DNSMessage.query(id: id, name: try! DNSName(name), type: type)
    }
}
