package import CapstanAPI
import CapstanClient
package import CapstanCore
package import Logging
package import ServiceLifecycle

/// How a node serves Services: its proxy and its cluster DNS, wired to each
/// other (the proxy sends the DNS Service's address to the node's DNS), built
/// the same way by `capstan server --with-node` and `capstan agent`.
package enum NodeServices {
    /// - Parameter resolvConf: the machine's resolvers, which cluster DNS forwards other names to.
    /// - Parameter stateDirectory: where the records of what the node added to the machine
    ///   (its nftables table, its DNS address) are kept, for `capstan reset`.
    package static func make(
        nodeName: String, network: ServiceNetwork, stateDirectory: String, resolvConf: String, client: any ClusterClient, logLevel: Logger.Level
    ) -> [any ServiceLifecycle.Service] {
        var dns = NodeDNS.Configuration(serviceRange: network.clusterIPRange, dnsServiceIP: network.dnsServiceIP)
        dns.upstreamResolvConf = resolvConf
        dns.addressRecordPath = stateDirectory + "/" + NodeDNS.addressRecordFile
        var proxy = ServiceProxy.Configuration(nodeName: nodeName, serviceRange: network.clusterIPRange, nodeLocalDNS: dns.endpoint)
        proxy.tableRecordPath = stateDirectory + "/" + ServiceProxy.tableRecordFile
        var proxyLogger = Logger(label: "capstan.proxy")
        proxyLogger.logLevel = logLevel
        var dnsLogger = Logger(label: "capstan.dns")
        dnsLogger.logLevel = logLevel
        // One cache of Services and EndpointSlices for both, run as a service of its own.
        let informers = SharedInformerFactory(client: client, logger: proxyLogger)
        return [
            informers,
            ServiceProxy(configuration: proxy, client: client, logger: proxyLogger, informers: informers),
            NodeDNS(configuration: dns, client: client, logger: dnsLogger, informers: informers),
        ]
    }
}
