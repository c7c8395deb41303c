import ArgumentParser
import CapstanAPIServer
import CapstanControlPlane
import CapstanCore
import CapstanGitOps
import CapstanPolicy
import CapstanStore
import Foundation
import Logging

/// The flags of one server — `capstan server`'s, and what `capstan up` passes
/// on after `--` — turned into a ``ControlPlaneConfiguration``.
struct ControlPlaneOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Directory holding the store's database (created if missing).")
    var dataDirectory: String = "/var/lib/capstan"

    @Option(help: "Address to listen on, HOST:PORT (port 0 picks a free one).")
    var listen: String = "127.0.0.1:6443"

    @Option(name: .customLong("tls-san"), help: "Extra DNS name or IP for the serving certificate (repeatable).")
    var tlsSANs: [String] = []

    @Option(
        name: .customLong("advertise-address"),
        help:
            "IP address pods reach the API server at (KUBERNETES_SERVICE_HOST); default: the --listen address, or the machine's first address when listening on all of them. A loopback --listen is out of pods' reach."
    )
    var advertiseAddress: String?

    @Option(
        name: .customLong("service-cluster-ip-range"),
        help: "IPv4 CIDR Services' ClusterIPs come from (prefix /12 to /28); its first address is the kubernetes Service's, its tenth the DNS's.")
    var serviceClusterIPRange: String = "\(ServiceNetwork.standard.clusterIPRange)"

    @Option(name: .customLong("service-node-port-range"), help: "Ports NodePort Services are given, LOW-HIGH.")
    var serviceNodePortRange: String = "30000-32767"

    @Flag(name: .customLong("insecure-http"), help: "Serve plain HTTP without authentication (every caller is admin); loopback only.")
    var insecureHTTP = false

    @Option(help: "full: fsync every commit (default); normal: fsync at checkpoints only.")
    var durability: String = "full"

    @Option(
        name: .customLong("compaction-interval"),
        help:
            "Seconds between compactions of the store's history, each keeping the last interval's (0: never), as kube-apiserver's --etcd-compaction-interval."
    )
    var compactionInterval: Int64 = 300

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @OptionGroup(title: "Desired state from git")
    var gitOps: GitOpsOptions

    @OptionGroup(title: "A node on this machine")
    var node: NodeOptions

    // Operations: request limits and event retention.
    @Option(name: .customLong("max-watches-per-client"), help: "Watches one client address may hold open; more get 429.")
    var maxWatchesPerClient: Int = RequestLimits().maxWatchesPerClient

    @Option(name: .customLong("event-ttl"), help: "Seconds an Event is kept after its last update (0: forever).")
    var eventTTL: Int64 = 3600

    // Node health and eviction (docs/controllers.md).
    @Option(
        name: .customLong("node-monitor-grace-period"),
        help: "Seconds a node may go without renewing its Lease before it is marked Unknown and tainted.")
    var nodeMonitorGracePeriod: Int64 = 40

    @Option(
        name: .customLong("default-toleration-seconds"), help: "Seconds new pods tolerate a not-ready or unreachable node before they are evicted.")
    var defaultTolerationSeconds: Int64 = 300

    @Option(
        name: .customLong("admission-policies"),
        help:
            "Folder of policies the API server checks creates and updates against ('none' to turn policy admission off; default: the GitOps gate's default policies)."
    )
    var admissionPolicies: String?

    func validate() throws {
        guard compactionInterval >= 0 else { throw ValidationError("--compaction-interval must not be negative") }
        guard maxWatchesPerClient > 0 else { throw ValidationError("--max-watches-per-client must be at least 1") }
        guard eventTTL >= 0 else { throw ValidationError("--event-ttl must not be negative") }
        guard nodeMonitorGracePeriod > 0 else { throw ValidationError("--node-monitor-grace-period must be at least 1 second") }
        guard defaultTolerationSeconds >= 0 else { throw ValidationError("--default-toleration-seconds must not be negative") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level '\(logLevel)'") }
        guard SQLiteStore.Durability(rawValue: durability) != nil else {
            throw ValidationError("--durability must be 'full' or 'normal', not '\(durability)'")
        }
        _ = try serviceNetwork()
        let address = try ListenAddress(listen)
        if insecureHTTP, !address.isLoopback {
            throw ValidationError(
                "--insecure-http needs a loopback --listen address: a server without authentication must not be reachable from other machines")
        }
        if insecureHTTP, !tlsSANs.isEmpty { throw ValidationError("--tls-san has no use with --insecure-http") }
        if let advertiseAddress {
            guard let ip = IPLiteral(advertiseAddress) else {
                throw ValidationError("--advertise-address must be an IP address, not '\(advertiseAddress)'")
            }
            guard !ip.isLoopback else {
                throw ValidationError("--advertise-address \(advertiseAddress) is loopback: inside a pod that is the pod itself, not the server")
            }
            guard !address.isLoopback, !insecureHTTP else {
                throw ValidationError(
                    "--advertise-address needs a server pods can reach: --listen \(listen) is loopback only\(insecureHTTP ? " (and --insecure-http stays there)" : "")"
                )
            }
        }
    }

    /// `--service-cluster-ip-range` and `--service-node-port-range`, checked as kube-apiserver checks them.
    func serviceNetwork() throws -> ServiceNetwork {
        guard let range = IPv4Network(serviceClusterIPRange) else {
            throw ValidationError("--service-cluster-ip-range must be an IPv4 network such as 10.96.0.0/16, not '\(serviceClusterIPRange)'")
        }
        guard (12...28).contains(range.prefixLength) else {
            throw ValidationError("--service-cluster-ip-range \(range) must have a prefix between /12 and /28")
        }
        guard let ports = ServiceNetwork.nodePortRange(serviceNodePortRange) else {
            throw ValidationError("--service-node-port-range must be LOW-HIGH within 1-65535, such as 30000-32767, not '\(serviceNodePortRange)'")
        }
        return ServiceNetwork(clusterIPRange: range, nodePortRange: ports)
    }

    /// The configuration these flags describe.
    func controlPlaneConfiguration(logger: Logger) throws -> ControlPlaneConfiguration {
        let address = try ListenAddress(listen)
        var configuration = ControlPlaneConfiguration(
            dataDirectory: dataDirectory, host: address.host, port: address.port, capstanVersion: VersionCommand.version)
        configuration.tlsSANs = tlsSANs
        configuration.advertiseAddress = advertiseAddress
        configuration.insecureHTTP = insecureHTTP
        configuration.serviceNetwork = try serviceNetwork()
        configuration.durability = SQLiteStore.Durability(rawValue: durability) ?? .full
        configuration.compactionInterval = compactionInterval > 0 ? .seconds(compactionInterval) : nil
        configuration.maxWatchesPerClient = maxWatchesPerClient
        configuration.eventTTLSeconds = eventTTL
        configuration.defaultTolerationSeconds = defaultTolerationSeconds
        configuration.nodeMonitorGracePeriod = .seconds(nodeMonitorGracePeriod)
        configuration.node = try node.embeddedNode(dataDirectory: dataDirectory)
        configuration.admissionPolicies = try loadAdmissionPolicies(logger: logger)
        if let repo = gitOps.repo {
            configuration.gitOps = try gitOps.configuration(repo: repo, dataDirectory: dataDirectory, logger: logger)
        }
        return configuration
    }

    /// The policies of `--admission-policies`: none with `none`, the named folder's, else the
    /// GitOps gate's defaults (`--default-policies`, else Capstan's `policies/`), so that a
    /// policy means the same for a commit and for `kubectl apply`.
    func loadAdmissionPolicies(logger: Logger) throws -> [Policy] {
        let files: [GitOpsConfiguration.PolicyFile]
        switch admissionPolicies {
        case "none":
            return []
        case let folder?:
            guard FileManager.default.fileExists(atPath: folder) else { throw ValidationError("--admission-policies: no folder \(folder)") }
            files = try ManifestFiles.policyFiles(in: folder).map { .init(path: $0.path, contents: $0.contents) }
        case nil:
            files = try gitOps.policyFiles(logger: logger)
        }
        let set = PolicyLoader().load(files: files.map { (path: $0.path, contents: $0.contents) })
        guard set.isValid else {
            throw ValidationError("--admission-policies: " + set.errors.map(\.description).joined(separator: "\n"))
        }
        return set.policies
    }

    /// The control plane these flags describe, with the GitOps engine when a
    /// repository is named; runs until SIGTERM or SIGINT.
    ///
    /// - Parameter onListening: called with the API server's URL once it listens.
    func run(onListening: @escaping @Sendable (String) -> Void = { _ in }) async throws {
        var logger = Logger(label: "capstan.server")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        var bootstrapped = try controlPlaneConfiguration(logger: logger)
        bootstrapped.metricsRegistry = ProcessMetricsRegistry.registry
        let configuration = bootstrapped
        let controlPlane: ControlPlane
        do {
            controlPlane = try ControlPlane(configuration: configuration, logger: logger) { event in
                Self.announce(event, dataDirectory: configuration.dataDirectory)
                if case .listening(let url, _) = event { onListening(url) }
            }
        } catch let error as GitOpsSetupError {
            throw ValidationError(gitOps.webhookSecretFile == nil ? "\(error)" : "--webhook-secret-file: \(error)")
        }
        try await controlPlane.run()
    }

    /// What the server prints as it starts (tests and scripts wait for the "listening" line).
    private static func announce(_ event: ControlPlane.Event, dataDirectory: String) {
        switch event {
        case .listening(let url, let kubeconfig):
            print("capstan server listening on \(url) (data dir \(dataDirectory); kubeconfig \(kubeconfig))")
        case .runtimeListening(let socket):
            print("CRI shim listening on unix://\(socket)")
        case .following(let repository, let branch, let webhookSecretPath):
            print("following \(repository) branch \(branch); webhook secret in \(webhookSecretPath)")
        }
        fflush(nil)
    }
}
