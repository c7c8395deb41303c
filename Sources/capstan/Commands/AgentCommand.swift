import ArgumentParser
import CapstanAPI
import CapstanAgent
import CapstanClient
import CapstanCore
import CapstanProxy
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// `capstan agent`: a node of a remote cluster. Talks to the API server over
/// HTTPS with a node token (`capstan token create --role node --node NAME`)
/// and to a CRI runtime on this machine (`capstan cri`, or containerd).
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run a node: register with the API server and run the pods bound to it through a CRI runtime.",
        discussion: """
            The kubeconfig names the server, its CA and a token; a node token \
            (`capstan token create --role node --node NAME`) may only touch its own Node, Lease and pods. \
            The runtime is any CRI v1 socket: `capstan cri --socket …` on this machine, or containerd's. \
            Stopping the agent leaves containers running; the next start adopts them. \
            `kubectl logs` and `exec` reach only pods of a node embedded in the server (`capstan server --with-node`).
            """)

    @Option(help: "Kubeconfig with the API server's address, CA and this node's token.")
    var kubeconfig: String

    @Option(name: .customLong("cri-socket"), help: "The CRI runtime's unix socket.")
    var criSocket = "/run/capstan/cri.sock"

    @Option(help: "Folder for pod volumes and container logs.")
    var root = "/var/lib/capstan/agent"

    @OptionGroup var node: NodeAgentOptions

    @Option(
        name: .customLong("service-cluster-ip-range"),
        help: "The cluster's service range, as the server's --service-cluster-ip-range: its first address is the API's Service.")
    var serviceClusterIPRange = "\(ServiceNetwork.standard.clusterIPRange)"

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level '\(logLevel)'") }
        guard root.hasPrefix("/") else { throw ValidationError("--root must be an absolute path") }
        guard FileManager.default.fileExists(atPath: kubeconfig) else { throw ValidationError("--kubeconfig \(kubeconfig): no such file") }
        guard IPv4Network(serviceClusterIPRange) != nil else {
            throw ValidationError("--service-cluster-ip-range must be an IPv4 network such as 10.96.0.0/16, not '\(serviceClusterIPRange)'")
        }
        if node.serviceProxy == "nftables", getuid() != 0 { throw ValidationError("--service-proxy nftables needs root (or --service-proxy none)") }
    }

    func run() async throws {
        var logger = Logger(label: "capstan.agent")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let client = try HTTPClusterClient.fromKubeconfig(path: kubeconfig)
        var configuration = try node.agentConfiguration(runtimeSocket: criSocket, rootDirectory: root)
        let range = IPv4Network(serviceClusterIPRange) ?? ServiceNetwork.standard.clusterIPRange
        let runsProxy = node.serviceProxy == "nftables"
        // Pods reach the server at the address this node does (through the `kubernetes`
        // Service when the node runs the proxy), unless that is this machine's loopback.
        if let url = URL(string: client.server), let host = url.host, !IPLiteral.isLoopbackHost(host) {
            let address =
                runsProxy
                ? APIServerAddress(
                    host: ServiceNetwork(clusterIPRange: range, nodePortRange: ServiceNetwork.standard.nodePortRange).apiServerServiceIP, port: 443)
                : APIServerAddress(host: host, port: url.port ?? 443)
            configuration.apiServerForPods = { address }
        }
        let network = ServiceNetwork(clusterIPRange: range, nodePortRange: ServiceNetwork.standard.nodePortRange)
        if runsProxy { configuration.clusterDNS = [network.dnsServiceIP] }
        let agent = try NodeAgent(configuration: configuration, client: client, logger: logger)
        var services: [any ServiceLifecycle.Service] = [agent]
        if runsProxy {
            services += NodeServices.make(
                nodeName: configuration.nodeName, network: network, stateDirectory: root, resolvConf: configuration.resolvConf, client: client,
                logLevel: logger.logLevel)
        }
        print("capstan agent: node \(configuration.nodeName), runtime unix://\(criSocket)")
        fflush(nil)
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await client.shutdown()
    }
}
