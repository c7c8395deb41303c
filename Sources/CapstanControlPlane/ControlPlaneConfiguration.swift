package import CapstanAgent
package import CapstanCore
package import CapstanGitOps
package import CapstanPolicy
package import CapstanStore
package import Foundation
package import Prometheus

/// Everything one Capstan server is made of, as values: what `capstan server`
/// and `capstan up` turn their flags into, and what tests build directly.
package struct ControlPlaneConfiguration: Sendable {
    /// Holds the store (`store/`), certificates (`pki/`), tokens (`auth/`), the
    /// Secrets key, `admin.kubeconfig`, and the embedded node's state.
    package var dataDirectory: String
    /// The API server's address; port 0 picks a free one.
    package var host: String
    package var port: Int
    /// Extra names for the serving certificate.
    package var tlsSANs: [String] = []
    /// The address pods reach the API server at (kube-apiserver's `--advertise-address`):
    /// nil takes the listen address, or the machine's first address when listening on
    /// every address. A server listening on loopback alone is out of pods' reach.
    package var advertiseAddress: String?
    /// Plain HTTP without authentication (loopback only; the caller checks the address).
    package var insecureHTTP = false
    /// Where Services' ClusterIPs and NodePorts come from.
    package var serviceNetwork = ServiceNetwork.standard
    package var durability: SQLiteStore.Durability = .full
    /// Every interval, history older than one interval is compacted; nil never compacts.
    package var compactionInterval: Duration? = .seconds(300)
    package var maxWatchesPerClient = 10
    /// Seconds an Event outlives its last update (0: forever).
    package var eventTTLSeconds: Int64 = 3600
    /// How long new pods tolerate a not-ready or unreachable node.
    package var defaultTolerationSeconds: Int64 = 300
    /// How long a node may go without renewing its Lease before it is marked Unknown.
    package var nodeMonitorGracePeriod: Duration = .seconds(40)
    /// The policies the API server checks creates and updates against (validating admission);
    /// empty turns it off. `capstan server` loads Capstan's default policies here unless
    /// `--admission-policies none`.
    package var admissionPolicies: [Policy] = []
    /// Desired state from a git repository, or nil to take it only from API clients.
    /// Its inventory digest key is replaced by one derived from the server's Secrets key.
    package var gitOps: GitOpsServerConfiguration?
    /// A node on this machine, or nil for a control plane alone.
    package var node: EmbeddedNodeConfiguration?
    /// Reported by `/version`, `/status` and the node.
    package var capstanVersion: String
    /// Where the API server's metrics live and what `/metrics` serves: the executable passes
    /// the registry it bootstrapped `MetricsSystem` with, so libraries' metrics are served too.
    package var metricsRegistry = PrometheusCollectorRegistry()

    package init(dataDirectory: String, host: String = "127.0.0.1", port: Int = 6443, capstanVersion: String) {
        self.dataDirectory = dataDirectory
        self.host = host
        self.port = port
        self.capstanVersion = capstanVersion
    }

    /// The address pods reach the API server at, or nil when they cannot reach it.
    /// - Parameter machineAddresses: the machine's non-loopback addresses, the preferred first.
    package func podFacingAddress(machineAddresses: [String]) -> String? {
        if let advertiseAddress { return advertiseAddress }
        if ["0.0.0.0", "::", ""].contains(host) { return machineAddresses.first }
        return IPLiteral.isLoopbackHost(host) ? nil : host
    }

    /// `<data dir>/admin.kubeconfig`.
    package var adminKubeconfigPath: String { dataDirectory + "/admin.kubeconfig" }

    /// The URL a client on this machine reaches the server at, once bound to `port`.
    package func reachableURL(port: Int) -> String {
        let reachable = ["0.0.0.0", ""].contains(host) ? "127.0.0.1" : host == "::" ? "::1" : host
        return "\(insecureHTTP ? "http" : "https")://\(reachable.contains(":") ? "[\(reachable)]" : reachable):\(port)"
    }
}

/// A node on the server's own machine: the node agent over the in-process
/// client, on the embedded CRI shim or another CRI runtime.
package struct EmbeddedNodeConfiguration: Sendable {
    /// Which container runtime the agent drives.
    package enum Runtime: Sendable {
        /// Capstan's CRI shim in this process, on runc, serving `<data dir>/cri.sock`.
        case embeddedShim(cniConfigurationDirectory: String, monitorExecutable: String)
        /// A CRI runtime already listening on this unix socket (containerd, or a `capstan cri`).
        case socket(String)
        /// A runtime object in this process: tests run the whole control plane on a fake.
        case provided(any RuntimeService)
    }

    /// The node agent's settings; its runtime socket is set from ``runtime``.
    package var agent: NodeAgent.Configuration
    package var runtime: Runtime
    /// Whether the node runs the Service proxy (nftables, root); pods then reach the API at
    /// the `kubernetes` Service's ClusterIP. Off for nodes on a runtime provided in process (tests).
    package var runsServiceProxy = false

    package init(agent: NodeAgent.Configuration, runtime: Runtime) {
        self.agent = agent
        self.runtime = runtime
    }
}
