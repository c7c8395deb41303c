package import CapstanCore
import OrderedCollections

/// Services and their EndpointSlices as the rules of one node's proxy, the
/// way kube-proxy picks endpoints:
///
/// - endpoints that are `ready`; when a Service has none, those still
///   `serving` while `terminating` (so a rollout's last old pod keeps
///   answering until its replacement is ready);
/// - only this node's pods (``localOnly``): Capstan's pod network is one
///   bridge per node, each with its own pod subnet, so another node's pod IP
///   is not reachable here — and may even be a local pod's. With only local
///   endpoints, `internalTrafficPolicy` and `externalTrafficPolicy: Local`
///   are met by construction. Endpoints that are not pods (the API server's,
///   hand-written ones) are kept: they are host addresses, routed as usual;
/// - the cluster DNS Service (`kube-system/kube-dns`) goes to this node's own
///   DNS server (`nodeLocalDNS`), as NodeLocal DNSCache does.
///
/// Headless and ExternalName Services have no rules (DNS answers them). A
/// Service with no usable endpoint gets a rule with none, which the ruleset
/// rejects.
///
/// The table is applied as one transaction, so one rule nftables refuses
/// would hold back every change on the node: what goes into a rule is checked
/// again here, whatever the API server let through — endpoint addresses must
/// be plain IPv4 addresses outside the special ranges, ports 1–65535, the
/// affinity timeout 1–86400 s, and a map key (an address, protocol and port,
/// or a NodePort) is given to the first Service that claims it. Pure.
package enum ProxyRulesBuilder {
    package static let dnsService = "kube-system/kube-dns"

    package static func rules(
        services: [Service], slices: [EndpointSlice], nodeName: String, localOnly: Bool = true, nodeLocalDNS: ServicePortRule.Endpoint? = nil,
        serviceRange: IPv4Network? = nil
    ) -> [ServicePortRule] {
        var slicesByService: [String: [EndpointSlice]] = [:]
        for slice in slices where slice.addressType == "IPv4" {
            guard let service = slice.serviceName else { continue }
            slicesByService[(slice.metadata.namespace ?? "") + "/" + service, default: []].append(slice)
        }
        var rules: [ServicePortRule] = []
        var claimed = Set<String>()
        // Oldest first, so the Service that had a key keeps it when another claims it too.
        let ordered = services.sorted {
            ($0.metadata.creationTimestamp ?? "", $0.metadata.namespace ?? "", $0.metadata.name)
                < ($1.metadata.creationTimestamp ?? "", $1.metadata.namespace ?? "", $1.metadata.name)
        }
        for service in ordered {
            let spec = service.spec
            guard spec.type != "ExternalName", let clusterIP = spec.clusterIP, IPAddress.isIPv4(clusterIP) else { continue }
            guard serviceRange.map({ $0.contains(clusterIP) }) ?? true else { continue }
            let id = (service.metadata.namespace ?? "") + "/" + service.metadata.name
            let affinity: Int? =
                spec.sessionAffinity == "ClientIP"
                ? Int(min(max(spec.json["sessionAffinityConfig"]?["clientIP"]?["timeoutSeconds"]?.intValue ?? 10800, 1), 86400)) : nil
            for port in spec.ports {
                guard let transport = transport(port.protocol) else { continue }
                var ready: [ServicePortRule.Endpoint] = []
                var terminating: [ServicePortRule.Endpoint] = []
                for slice in slicesByService[id] ?? [] {
                    // The slice's port of the same name carries the target port as resolved for its pods.
                    guard let target = slice.ports.first(where: { $0.name == (port.name ?? "") && $0.protocol == port.protocol })?.port,
                        (1...65535).contains(target)
                    else { continue }
                    for endpoint in slice.endpoints where !localOnly || endpoint.targetPod == nil || endpoint.nodeName == nodeName {
                        let targets = endpoint.addresses.filter(usable).map { ServicePortRule.Endpoint(ip: $0, port: Int(target)) }
                        if endpoint.isReady {
                            ready += targets
                        } else if endpoint.isServing && endpoint.isTerminating {
                            terminating += targets
                        }
                    }
                }
                var chosen = ready.isEmpty ? terminating : ready
                if id == dnsService, let nodeLocalDNS { chosen = [nodeLocalDNS] }
                guard (1...65535).contains(port.port), claimed.insert("\(clusterIP) \(transport) \(port.port)").inserted else { continue }
                var nodePort = ServiceNetwork.typeHasNodePorts(spec.type) ? port.nodePort.map(Int.init) : nil
                if let number = nodePort, !(1...65535).contains(number) || !claimed.insert("\(transport) \(number)").inserted { nodePort = nil }
                rules.append(
                    ServicePortRule(
                        name: "\(id):\(port.name.flatMap { $0.isEmpty ? nil : $0 } ?? String(port.port))", clusterIP: clusterIP, port: Int(port.port),
                        transport: transport, nodePort: nodePort,
                        endpoints: Array(Set(chosen)).sorted { ($0.ip, $0.port) < ($1.ip, $1.port) }, affinitySeconds: affinity))
            }
        }
        return rules.sorted { $0.name < $1.name }
    }

    /// A plain IPv4 address a connection may be sent to: not loopback, link-local, unspecified or multicast.
    static func usable(_ address: String) -> Bool {
        IPAddress.isIPv4(address) && IPAddress.specialUseProblem(address) == nil
    }

    static func transport(_ protocolName: String) -> String? {
        switch protocolName {
        case "TCP": "tcp"
        case "UDP": "udp"
        case "SCTP": "sctp"
        default: nil
        }
    }
}
