import ArgumentParser
import CapstanAPIServer
import CapstanClient
import CapstanControllers
import CapstanGitOps
import CapstanScheduler
import CapstanStore
import Foundation
import Logging
import ServiceLifecycle

/// `capstan server`: the store and the Kubernetes-compatible API server.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run the API server on Capstan's embedded store.",
        discussion: """
            Serves the Kubernetes API that kubectl and the Python kubernetes client use, over \
            HTTPS with bearer tokens. On first start it makes, in the data directory, a CA and \
            serving certificate (pki/), an admin token (auth/tokens.json holds only hashes), \
            the key Secrets are encrypted with (secrets.key) and admin.kubeconfig; later starts \
            reuse them. `capstan kubeconfig` prints the admin kubeconfig, `capstan token create` \
            mints viewer and node tokens. --insecure-http serves plain HTTP without authentication \
            (every request is admin, as Kubernetes' old insecure port; kubectl sends no token over \
            plain HTTP), on loopback only. \
            See docs/security.md. With --repo, a git repository is the desired state (docs/gitops.md). \
            --config FILE reads options from a YAML mapping of long option names to values \
            (repo: URL, sync-interval: 5, …); options given on the command line win.
            """
    )

    @Option(name: .customLong("data-dir"), help: "Directory holding the store's database (created if missing).")
    var dataDirectory: String = "/var/lib/capstan"

    @Option(help: "Address to listen on, HOST:PORT (port 0 picks a free one).")
    var listen: String = "127.0.0.1:6443"

    @Option(name: .customLong("tls-san"), help: "Extra DNS name or IP for the serving certificate (repeatable).")
    var tlsSANs: [String] = []

    @Flag(name: .customLong("insecure-http"), help: "Serve plain HTTP without authentication (every caller is admin); loopback only.")
    var insecureHTTP = false

    @Option(help: "full: fsync every commit (default); normal: fsync at checkpoints only.")
    var durability: String = "full"

    @Option(
        name: .customLong("compaction-interval"),
        help: "Seconds between compactions of the store's history, each keeping the last interval's (0: never), as kube-apiserver's --etcd-compaction-interval.")
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
    @Option(name: .customLong("node-monitor-grace-period"), help: "Seconds a node may go without renewing its Lease before it is marked Unknown and tainted.")
    var nodeMonitorGracePeriod: Int64 = 40

    @Option(name: .customLong("default-toleration-seconds"), help: "Seconds new pods tolerate a not-ready or unreachable node before they are evicted.")
    var defaultTolerationSeconds: Int64 = 300

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
        let address = try ListenAddress(listen)
        if insecureHTTP, !address.isLoopback {
            throw ValidationError("--insecure-http needs a loopback --listen address: a server without authentication must not be reachable from other machines")
        }
        if insecureHTTP, !tlsSANs.isEmpty { throw ValidationError("--tls-san has no use with --insecure-http") }
    }

    func run() async throws {
        try await runControlPlane()
    }

    /// The API server on the embedded store, with the GitOps engine when a
    /// repository is named, and a node with `--with-node`; runs until SIGTERM or SIGINT.
    func runControlPlane(onListening: @escaping @Sendable (String) -> Void = { _ in }) async throws {
        var logger = Logger(label: "capstan.server")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let address = try ListenAddress(listen)
        let (host, port) = (address.host, address.port)
        let store = try SQLiteStore(
            directory: dataDirectory + "/store", options: .init(durability: SQLiteStore.Durability(rawValue: durability) ?? .full), logger: logger)
        defer { store.close() }
        let security = try prepareSecurity(host: host)
        let serverLogger = logger
        var configuration = APIServer.Configuration(host: host, port: port, capstanVersion: VersionCommand.version)
        configuration.limits.maxWatchesPerClient = maxWatchesPerClient
        configuration.eventTTLSeconds = eventTTL
        configuration.defaultTolerationSeconds = defaultTolerationSeconds
        var server = APIServer(
            configuration: configuration, store: store, backend: "sqlite", security: security, logger: logger
        ) { boundPort in
            let url = announce(security, host: host, port: boundPort, logger: serverLogger)
            onListening(url)
        }
        var services: [any Service] = []
        // The control loops and GitOps, through the same registry path as every API request.
        let client = InProcessClient(registry: server.registry)
        if let repo = gitOps.repo {
            let digestKey = InventoryDigestKey(security.encryption.derivedKey(purpose: GitOpsServerConfiguration.inventoryDigestPurpose))
            let configuration = try gitOps.configuration(repo: repo, dataDirectory: dataDirectory, digestKey: digestKey, logger: logger)
            let gitOpsServer: GitOpsServer
            do {
                gitOpsServer = try GitOpsServer(configuration: configuration, client: client, clock: ContinuousClock(), logger: logger)
            } catch {
                throw ValidationError(gitOps.webhookSecretFile == nil ? "\(error)" : "--webhook-secret-file: \(error)")
            }
            server.routes += gitOpsServer.routes
            server.gitOpsStatus = gitOpsServer.status
            services.append(gitOpsServer.service)
            print("following \(GitCredentials.redacted(repo)) branch \(gitOps.branch); webhook secret in \(gitOpsServer.webhookSecretPath)")
        }
        var schedulerLogger = logger
        schedulerLogger[metadataKey: "component"] = "scheduler"
        var controllerLogger = logger
        controllerLogger[metadataKey: "component"] = "controllers"
        services.append(Scheduler(client: client, logger: schedulerLogger))
        services.append(ControllerManager(
            client: client, configuration: .init(nodeMonitorGracePeriod: .seconds(nodeMonitorGracePeriod)), logger: controllerLogger))
        services.append(EndpointsController(client: client, logger: controllerLogger))
        if compactionInterval > 0 {
            // As kube-apiserver does: every interval, drop the history older than the
            // revision seen one interval ago; a watch left behind gets 410 and relists.
            var compactorLogger = logger
            compactorLogger[metadataKey: "component"] = "compactor"
            let interval = Duration.seconds(compactionInterval)
            services.append(AutoCompactor(store: store, policy: .keepDuration(interval), logger: compactorLogger, checkInterval: interval))
        }
        let embeddedNode = try node.services(dataDirectory: dataDirectory, client: client, logLevel: logLevel)
        services += embeddedNode.services
        server.podStreaming = embeddedNode.streaming
        services.insert(server, at: 0)
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    // MARK: Security (docs/security.md)

    /// Certificates, tokens and the Secrets key in the data directory, made on first start.
    private func prepareSecurity(host: String) throws -> ServerSecurity {
        let wildcard = ["0.0.0.0", "::", ""].contains(host)
        let names = ServerPKI.defaultNames(extra: (wildcard ? [] : [host]) + tlsSANs)
        return try ServerSecurity.prepare(dataDirectory: dataDirectory, tls: !insecureHTTP, names: names)
    }

    /// Writes admin.kubeconfig for the bound address, then says where the server listens.
    @discardableResult
    private func announce(_ security: ServerSecurity, host: String, port: Int, logger: Logger) -> String {
        let reachable = ["0.0.0.0", ""].contains(host) ? "127.0.0.1" : host == "::" ? "::1" : host
        let url = "\(insecureHTTP ? "http" : "https")://\(reachable.contains(":") ? "[\(reachable)]" : reachable):\(port)"
        do {
            try security.writeAdminKubeconfig(serverURL: url)
        } catch {
            logger.error("cannot write the admin kubeconfig", metadata: ["error": "\(error)"])
        }
        print("capstan server listening on \(url) (data dir \(dataDirectory); kubeconfig \(ServerSecurity.adminKubeconfigPath(dataDirectory: dataDirectory)))")
        fflush(nil)
        return url
    }
}
