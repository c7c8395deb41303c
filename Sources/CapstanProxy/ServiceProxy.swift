package import CapstanAPI
package import CapstanClient
package import CapstanCore
import CapstanSystem
import Foundation
package import Logging
package import ServiceLifecycle

/// A node's Service proxy (kube-proxy's part): keeps the nftables table
/// equal to what the cluster's Services and EndpointSlices ask of this node.
///
/// Every change seen by the informers wakes one sync, and changes arriving
/// while a sync runs are folded into the next: a sync renders the whole
/// table from the caches and, when it differs from the last one applied,
/// replaces it in one `nft -f` transaction. Every ``Configuration/checkInterval``
/// the table's presence is checked and a removed table (a flushed ruleset)
/// put back. Stopping the proxy leaves the table in place, so Services keep
/// answering while the agent restarts; `capstan reset` removes it.
package struct ServiceProxy: ServiceLifecycle.Service {
    package struct Configuration: Sendable {
        package var nodeName: String
        /// The service range: untranslated traffic to it is rejected.
        package var serviceRange: IPv4Network
        /// Where this node answers cluster DNS, the endpoint of `kube-system/kube-dns`; nil rejects DNS.
        package var nodeLocalDNS: ServicePortRule.Endpoint?
        package var checkInterval: Duration = .seconds(30)
        /// A file written before the table is first applied, naming it: `capstan reset` of the
        /// node's data directory removes the table only when this node made it.
        package var tableRecordPath: String?

        package init(nodeName: String, serviceRange: IPv4Network, nodeLocalDNS: ServicePortRule.Endpoint? = nil) {
            self.nodeName = nodeName
            self.serviceRange = serviceRange
            self.nodeLocalDNS = nodeLocalDNS
        }
    }

    /// The ``Configuration/tableRecordPath`` file's name in a node's data directory.
    package static let tableRecordFile = "service-proxy-table"

    let configuration: Configuration
    let client: any ClusterClient
    let filter: any PacketFilter
    let logger: Logger
    let sharedInformers: SharedInformerFactory?

    /// - Parameter informers: informers shared with the node's other services and run by the
    ///   caller; nil to make and run a factory of the proxy's own.
    package init(
        configuration: Configuration, client: any ClusterClient, filter: any PacketFilter = NFTablesCommand(), logger: Logger,
        informers: SharedInformerFactory? = nil
    ) {
        self.configuration = configuration
        self.client = client
        self.filter = filter
        self.logger = logger
        self.sharedInformers = informers
    }

    package func run() async throws {
        // Pod-to-pod Service traffic on one bridge comes back bridged, not routed; only with
        // this switch on does it pass the IP hooks where conntrack undoes the DNAT.
        if ProcFile.read("/proc/sys/net/bridge/bridge-nf-call-iptables")?.hasPrefix("1") != true {
            logger.warning(
                "net.bridge.bridge-nf-call-iptables is not 1 (modprobe br_netfilter; sysctl -w net.bridge.bridge-nf-call-iptables=1): pods reaching a Service whose endpoint is on their own bridge will get no answer"
            )
        }
        let informers = sharedInformers ?? SharedInformerFactory(client: client, logger: logger)
        let runsInformers = sharedInformers == nil
        let services = informers.informer(CapstanCore.Service.self, kind: BuiltinKinds.service)
        let slices = informers.informer(EndpointSlice.self, kind: BuiltinKinds.endpointSlice)
        let wakeup = Wakeup(clock: ContinuousClock())
        let serviceChanges = services.changes()
        let sliceChanges = slices.changes()
        try await cancelWhenGracefulShutdown {
            try await withThrowingDiscardingTaskGroup { group in
                if runsInformers { group.addTask { try await informers.run() } }
                group.addTask { for await _ in serviceChanges { wakeup.signal() } }
                group.addTask { for await _ in sliceChanges { wakeup.signal() } }
                group.addTask {
                    await informers.waitForCacheSync()
                    try await sync(services: services, slices: slices, wakeup: wakeup)
                }
            }
        }
    }

    private func sync(services: Informer<CapstanCore.Service>, slices: Informer<EndpointSlice>, wakeup: Wakeup) async throws {
        var applied: String? = nil
        var retry: Duration = .milliseconds(100)
        let clock = ContinuousClock()
        var nextCheck = clock.now + configuration.checkInterval
        while !Task.isCancelled {
            let rules = ProxyRulesBuilder.rules(
                services: services.list(), slices: slices.list(), nodeName: configuration.nodeName, nodeLocalDNS: configuration.nodeLocalDNS,
                serviceRange: configuration.serviceRange)
            let script = NFTablesRuleset(rules: rules, serviceRange: configuration.serviceRange, nodeLocalDNS: configuration.nodeLocalDNS?.ip).script
            if clock.now >= nextCheck {
                nextCheck = clock.now + configuration.checkInterval
                if applied != nil, await !filter.hasTable() {
                    logger.warning("the service proxy's nftables table is gone; putting it back")
                    applied = nil
                }
            }
            if script != applied {
                do {
                    if applied == nil, let path = configuration.tableRecordPath {
                        try PrivateFile.write(Data("ip \(NFTablesRuleset.tableName)\n".utf8), to: path)
                    }
                    try await filter.apply(script)
                    applied = script
                    retry = .milliseconds(100)
                    logger.debug("service rules applied", metadata: ["servicePorts": "\(rules.count)"])
                } catch {
                    logger.error("cannot apply the service rules", metadata: ["error": "\(error)"])
                    try await Task.sleep(for: retry)
                    retry = min(retry * 2, .seconds(10))
                    continue
                }
            }
            await wakeup.wait(upTo: configuration.checkInterval)
        }
    }
}
