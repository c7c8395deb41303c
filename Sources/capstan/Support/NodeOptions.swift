import ArgumentParser
import CapstanAgent
import CapstanControlPlane
import Foundation

/// What a node says about itself and how it runs its pods: the flags
/// `capstan agent` and `capstan server --with-node` share.
struct NodeAgentOptions: ParsableArguments {
    @Option(name: .customLong("node-name"), help: "The node's name (default: the host name, lower-cased).")
    var nodeName: String?

    @Option(name: .customLong("node-label"), help: "A label for the node, KEY=VALUE (repeatable).")
    var nodeLabels: [String] = []

    @Option(
        name: .customLong("node-lease-duration"),
        help: "Seconds the node's Lease is valid; the agent renews it every quarter of that (the kubelet's 40).")
    var leaseDuration: Int64 = 40

    @Option(
        name: .customLong("seccomp-default"),
        help:
            "Run containers whose pod names no seccomp profile under the runtime's default profile (the kubelet's --seccomp-default); false leaves them unconfined."
    )
    var seccompDefault = true

    @Option(
        name: .customLong("service-proxy"),
        help:
            "How the node serves Services: nftables (ClusterIPs and NodePorts in nftables table 'ip capstan', root) or none. One node per machine may run it."
    )
    var serviceProxy = "nftables"

    @Option(
        name: .customLong("resolv-conf"),
        help:
            "The resolvers pods with dnsPolicy Default use and cluster DNS forwards other names to (the kubelet's --resolv-conf); default: /etc/resolv.conf, or systemd-resolved's upstream list when /etc/resolv.conf names only its loopback stub."
    )
    var resolvConf: String?

    /// `--resolv-conf`, else what kubeadm picks: systemd-resolved's list of real upstreams when
    /// `/etc/resolv.conf` names only its stub on 127.0.0.53, which no pod (and no forwarder
    /// answering pods) can use.
    var resolvedResolvConf: String {
        if let resolvConf { return resolvConf }
        let upstreams = "/run/systemd/resolve/resolv.conf"
        let servers = ((try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? "").split(separator: "\n")
            .filter { $0.hasPrefix("nameserver") }.compactMap { $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first }
        if !servers.isEmpty, servers.allSatisfy({ $0.hasPrefix("127.") }), FileManager.default.fileExists(atPath: upstreams) { return upstreams }
        return "/etc/resolv.conf"
    }

    func validate() throws {
        _ = try labels()
        guard ["nftables", "none"].contains(serviceProxy) else {
            throw ValidationError("--service-proxy must be nftables or none, not '\(serviceProxy)'")
        }
        guard (4...3600).contains(leaseDuration) else { throw ValidationError("--node-lease-duration must be between 4 and 3600 seconds") }
        if let nodeName, !Self.isValidName(nodeName) {
            throw ValidationError("--node-name must be a DNS subdomain: lower-case letters, digits, '-' and '.', at most 253 characters")
        }
    }

    func labels() throws -> [String: String] {
        var labels: [String: String] = [:]
        for entry in nodeLabels {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                throw ValidationError("--node-label must be KEY=VALUE, not '\(entry)'")
            }
            labels[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
        }
        return labels
    }

    var resolvedNodeName: String {
        nodeName ?? ProcessInfo.processInfo.hostName.lowercased().split(separator: ".").first.map(String.init) ?? "node"
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.first, let last = name.last, name.count <= 253 else { return false }
        return name.allSatisfy { ($0.isASCII && $0.isLowercase) || $0.isASCII && $0.isNumber || $0 == "-" || $0 == "." }
            && (first.isLetter || first.isNumber) && (last.isLetter || last.isNumber)
    }

    /// The agent's configuration for a runtime socket and a state folder.
    func agentConfiguration(runtimeSocket: String, rootDirectory: String) throws -> NodeAgent.Configuration {
        var configuration = NodeAgent.Configuration(nodeName: resolvedNodeName, runtimeSocket: runtimeSocket, rootDirectory: rootDirectory)
        configuration.labels = try labels()
        configuration.version = "capstan-" + VersionCommand.version
        configuration.leaseDurationSeconds = leaseDuration
        configuration.seccompDefault = seccompDefault
        configuration.resolvConf = resolvedResolvConf
        configuration.heartbeatInterval = .seconds(Double(leaseDuration) / 4)
        return configuration
    }
}

/// `--with-node`: the server also runs a node on this machine — the CRI shim
/// in-process (unless `--cri-socket` names another runtime, such as
/// containerd) and the node agent over the in-process client.
struct NodeOptions: ParsableArguments {
    @Flag(name: .customLong("with-node"), help: "Also run a node on this machine: the CRI shim (root) and the node agent.")
    var withNode = false

    @OptionGroup var agent: NodeAgentOptions

    @Option(name: .customLong("cri-socket"), help: "Use the CRI runtime on this socket (e.g. containerd's) instead of the embedded shim.")
    var criSocket: String?

    @Option(name: .customLong("cni-conf-dir"), help: "CNI configuration folder for the embedded shim (a default bridge is written when empty).")
    var cniConfDir = "/etc/cni/net.d"

    func validate() throws {
        if withNode, criSocket == nil, getuid() != 0 {
            throw ValidationError("--with-node runs containers with runc and needs root (or --cri-socket naming a runtime already running)")
        }
    }

    /// The embedded node these flags describe, or nil without `--with-node`.
    func embeddedNode(dataDirectory: String) throws -> EmbeddedNodeConfiguration? {
        guard withNode else { return nil }
        let runtime: EmbeddedNodeConfiguration.Runtime =
            if let criSocket { .socket(criSocket) } else {
                .embeddedShim(cniConfigurationDirectory: cniConfDir, monitorExecutable: try CRICommand.ownExecutable())
            }
        // The control plane sets the socket of an embedded shim and the state folder.
        var node = EmbeddedNodeConfiguration(
            agent: try agent.agentConfiguration(runtimeSocket: "", rootDirectory: dataDirectory + "/agent"), runtime: runtime)
        node.runsServiceProxy = agent.serviceProxy == "nftables"
        return node
    }
}
