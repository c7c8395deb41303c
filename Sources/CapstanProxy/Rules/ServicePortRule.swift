/// What the proxy does with one port of one Service: the addresses and
/// ports traffic arrives at, and the endpoints it is sent to. Built from the
/// informers' Services and EndpointSlices (``ProxyRulesBuilder``), rendered
/// into nftables (``NFTablesRuleset``).
package struct ServicePortRule: Hashable, Sendable {
    /// `namespace/name:port` (the port's name, or its number when unnamed): what comments and logs show.
    package var name: String
    package var clusterIP: String
    package var port: Int
    /// `tcp`, `udp` or `sctp`, as nftables writes it.
    package var transport: String
    /// The port on every node address, for NodePort and LoadBalancer Services.
    package var nodePort: Int?
    /// Where connections go, chosen at random per new connection.
    package var endpoints: [Endpoint]
    /// Seconds a client keeps its endpoint (`sessionAffinity: ClientIP`), or nil.
    package var affinitySeconds: Int?

    package struct Endpoint: Hashable, Sendable {
        package var ip: String
        package var port: Int

        package init(ip: String, port: Int) {
            self.ip = ip
            self.port = port
        }
    }

    package init(
        name: String, clusterIP: String, port: Int, transport: String, nodePort: Int? = nil, endpoints: [Endpoint], affinitySeconds: Int? = nil
    ) {
        self.name = name
        self.clusterIP = clusterIP
        self.port = port
        self.transport = transport
        self.nodePort = nodePort
        self.endpoints = endpoints
        self.affinitySeconds = affinitySeconds
    }
}
