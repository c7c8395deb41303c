package import CapstanAPI
package import CapstanClient
package import CapstanCore
import CapstanDNS
import CapstanSystem
import Foundation
package import Logging
package import ServiceLifecycle
import Synchronization

/// A node's cluster DNS, as NodeLocal DNSCache runs it: CapstanDNS on a
/// link-local address of this machine (``Configuration/listenAddress``,
/// added to the loopback interface), answering cluster names from this
/// process's informer caches and forwarding the rest to the machine's own
/// resolvers. Pods reach it at the cluster DNS Service's address, which the
/// node's proxy sends here.
package struct NodeDNS: ServiceLifecycle.Service {
    package struct Configuration: Sendable {
        /// NodeLocal DNSCache's address: link-local, so never routed off the machine.
        package var listenAddress = "169.254.20.10"
        package var port = 53
        /// The service range: reverse lookups inside it are answered here.
        package var serviceRange: IPv4Network
        /// The cluster DNS Service's address, named as the zone's name server.
        package var dnsServiceIP: String
        /// Where the upstream resolvers are read from (the kubelet's `--resolv-conf`).
        package var upstreamResolvConf = "/etc/resolv.conf"
        /// A file written before the address is added, naming it: `capstan reset` removes the address.
        package var addressRecordPath: String?

        package init(serviceRange: IPv4Network, dnsServiceIP: String) {
            self.serviceRange = serviceRange
            self.dnsServiceIP = dnsServiceIP
        }

        /// Where the proxy sends the cluster DNS Service.
        package var endpoint: ServicePortRule.Endpoint { ServicePortRule.Endpoint(ip: listenAddress, port: port) }
    }

    /// The ``Configuration/addressRecordPath`` file's name in a node's data directory.
    package static let addressRecordFile = "node-dns-address"

    let configuration: Configuration
    let client: any ClusterClient
    let logger: Logger
    let sharedInformers: SharedInformerFactory?

    /// - Parameter informers: informers shared with the node's other services and run by the
    ///   caller; nil to make and run a factory of its own.
    package init(configuration: Configuration, client: any ClusterClient, logger: Logger, informers: SharedInformerFactory? = nil) {
        self.configuration = configuration
        self.client = client
        self.logger = logger
        self.sharedInformers = informers
    }

    package func run() async throws {
        let informers = sharedInformers ?? SharedInformerFactory(client: client, logger: logger)
        let runsInformers = sharedInformers == nil
        let services = informers.informer(CapstanCore.Service.self, kind: BuiltinKinds.service)
        let slices = informers.informer(EndpointSlice.self, kind: BuiltinKinds.endpointSlice)
        let pods = informers.informer(Pod.self, kind: BuiltinKinds.pod)
        let cache = Cache(services: services, slices: slices, pods: pods)
        let snapshot = CurrentRecords()
        let changed = Wakeup(clock: ContinuousClock())
        let changes = (services.changes(), slices.changes(), pods.changes())
        // The informers and loops end only when cancelled: a graceful shutdown cancels them.
        try await cancelWhenGracefulShutdown {
            try await withThrowingDiscardingTaskGroup { group in
                if runsInformers { group.addTask { try await informers.run() } }
                group.addTask { for await _ in changes.0 { changed.signal() } }
                group.addTask { for await _ in changes.1 { changed.signal() } }
                group.addTask { for await _ in changes.2 { changed.signal() } }
                group.addTask {
                    // Serve only complete answers: until the caches hold the cluster, every
                    // Service name would be an authoritative NXDOMAIN that clients cache.
                    await informers.waitForCacheSync()
                    snapshot.replace(with: cache.records)
                    try await withThrowingDiscardingTaskGroup { serving in
                        serving.addTask { try await serveUntilCancelled(records: { snapshot.current }) }
                        // Changes arriving while a rebuild runs are folded into the next one.
                        while !Task.isCancelled {
                            await changed.wait(upTo: .seconds(60))
                            snapshot.replace(with: cache.records)
                        }
                    }
                }
            }
        }
    }

    /// The DNS server on the node's address; a failure (the address cannot be added, the port
    /// is taken) is logged and tried again with backoff rather than stopping the node.
    private func serveUntilCancelled(records: @escaping @Sendable () -> ClusterDNSRecords) async throws {
        let upstream = (try? ResolvConf.load(path: configuration.upstreamResolvConf)) ?? ResolvConf()
        // Never forward to ourselves: a machine whose resolv.conf names the cluster DNS would loop.
        let servers = upstream.upstreamServers.filter { ![configuration.listenAddress, configuration.dnsServiceIP].contains($0.host) }
        if servers.isEmpty {
            logger.warning(
                "no upstream resolvers: names outside the cluster will be refused", metadata: ["resolvConf": "\(configuration.upstreamResolvConf)"])
        }
        let forwarder = servers.isEmpty ? nil : UpstreamForwarder(configuration: .init(servers: servers), logger: logger)
        var backoff: Duration = .seconds(1)
        while !Task.isCancelled {
            let server = DNSServer(
                configuration: .init(
                    host: configuration.listenAddress, port: configuration.port,
                    cluster: ClusterResolver.Configuration(
                        reverseZones: IPNetwork("\(configuration.serviceRange)").map { [$0] } ?? [], nameserverIPs: [configuration.dnsServiceIP])),
                records: records, forwarder: forwarder, logger: logger)
            do {
                try await addListenAddress()
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask { try await server.run() }
                    let bound = try await server.boundAddress
                    logger.info("cluster DNS listening", metadata: ["address": "\(bound.host):\(bound.port)"])
                }
                return
            } catch is CancellationError {
                return
            } catch {
                logger.error(
                    "cluster DNS cannot serve; trying again",
                    metadata: ["address": "\(configuration.listenAddress):\(configuration.port)", "error": "\(error)"])
                try await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(30))
            }
        }
    }

    /// Puts the listen address on the loopback interface (`ip addr replace` is idempotent).
    private func addListenAddress() async throws {
        if let path = configuration.addressRecordPath {
            try PrivateFile.write(Data("\(configuration.listenAddress)/32 dev lo\n".utf8), to: path)
        }
        try await Subprocess.check(IPCommand.path, ["addr", "replace", "\(configuration.listenAddress)/32", "dev", "lo"])
    }

    /// Takes the address off again (`capstan reset`).
    package static func removeListenAddress(recordedAt path: String) async throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), let address = text.split(separator: " ").first else { return }
        _ = try await Subprocess.run(IPCommand.path, ["addr", "del", String(address), "dev", "lo"])
        try FileManager.default.removeItem(atPath: path)
    }
}

/// The records DNS answers from now, replaced whole at every change (the SOA serial counts
/// them). A rebuild runs outside the lock, so queries never wait for one.
private final class CurrentRecords: Sendable {
    private let state = Mutex((records: ClusterDNSRecords(), serial: UInt32(1)))

    var current: ClusterDNSRecords { state.withLock { $0.records } }

    func replace(with make: (UInt32) -> ClusterDNSRecords) {
        let serial = state.withLock { state in
            state.serial &+= 1
            return state.serial
        }
        let records = make(serial)
        state.withLock { state in
            if state.serial == serial { state.records = records }
        }
    }
}

/// The informers cluster DNS reads.
private struct Cache: Sendable {
    let services: Informer<CapstanCore.Service>
    let slices: Informer<EndpointSlice>
    let pods: Informer<Pod>

    func records(serial: UInt32) -> ClusterDNSRecords {
        ClusterDNSSnapshot.records(services: services.list(), slices: slices.list(), pods: pods.list(), serial: serial)
    }
}

/// iproute2's `ip`.
enum IPCommand {
    static var path: String { FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") ? "/usr/sbin/ip" : "/sbin/ip" }
}
