package import CapstanAPI
package import CapstanAPIServer
import CapstanAgent
import CapstanClient
import CapstanControllers
package import CapstanCore
import CapstanGitOps
import CapstanProxy
import CapstanScheduler
package import CapstanStore
import Foundation
package import Logging
package import ServiceLifecycle
import Synchronization
package import UnixSignals

/// One Capstan server, assembled from a ``ControlPlaneConfiguration``: the
/// store, its compactor, the API server, the scheduler, the controllers and,
/// when configured, the GitOps engine and a node on this machine — the same way for `capstan server`,
/// `capstan up` and the tests.
///
/// Every control loop reaches cluster state through ``client``, the in-process
/// client over the API server's registry, so it gets every check an HTTP
/// request gets. Nothing starts until ``run(gracefulShutdownSignals:)``.
package struct ControlPlane: Sendable {
    /// What happens while the control plane starts, for the caller to show.
    package enum Event: Sendable, Hashable {
        /// The API server accepts connections at `url`; `kubeconfig` (written just now) reaches it as admin.
        case listening(url: String, kubeconfig: String)
        /// The embedded CRI shim serves this socket.
        case runtimeListening(socket: String)
        /// The GitOps engine follows `repository` (credentials redacted); its webhook's secret is in `webhookSecretPath`.
        case following(repository: String, branch: String, webhookSecretPath: String)
    }

    package let configuration: ControlPlaneConfiguration
    package let store: SQLiteStore
    /// Certificates, tokens and the Secrets key from the data directory.
    package let security: ServerSecurity
    /// The in-process client every control loop uses.
    package let client: InProcessClient
    private var server: APIServer
    private var services: [any ServiceLifecycle.Service] = []
    private let logger: Logger

    /// Opens the store and prepares the data directory (certificates, tokens and
    /// the Secrets key are made on first start); builds every service.
    ///
    /// - Parameter onEvent: told when the API server listens (after `admin.kubeconfig`
    ///   is written for the bound port) and when the embedded shim does.
    package init(configuration: ControlPlaneConfiguration, logger: Logger, onEvent: @escaping @Sendable (Event) -> Void = { _ in }) throws {
        self.configuration = configuration
        self.logger = logger
        try ServerSecurity.makePrivateDirectory(configuration.dataDirectory)
        let store = try SQLiteStore(
            directory: configuration.dataDirectory + "/store", options: .init(durability: configuration.durability), logger: logger)
        do {
            let wildcard = ["0.0.0.0", "::", ""].contains(configuration.host)
            let listeningPort = BoundPort()
            let podFacing = configuration.podFacingAddress(machineAddresses: MachineInfo.read(storagePath: configuration.dataDirectory).addresses)
            // Pods name the server by its Service too, as kube-apiserver's certificate covers.
            let serviceNames = [
                configuration.serviceNetwork.apiServerServiceIP, "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local",
            ]
            let names = ServerPKI.defaultNames(
                extra: (wildcard ? [] : [configuration.host]) + configuration.tlsSANs + (podFacing.map { [$0] } ?? []) + serviceNames)
            let security = try ServerSecurity.prepare(dataDirectory: configuration.dataDirectory, tls: !configuration.insecureHTTP, names: names)
            var serverConfiguration = APIServer.Configuration(
                host: configuration.host, port: configuration.port, capstanVersion: configuration.capstanVersion)
            serverConfiguration.limits.maxWatchesPerClient = configuration.maxWatchesPerClient
            serverConfiguration.eventTTLSeconds = configuration.eventTTLSeconds
            serverConfiguration.defaultTolerationSeconds = configuration.defaultTolerationSeconds
            serverConfiguration.admissionPolicies = configuration.admissionPolicies
            serverConfiguration.serviceNetwork = configuration.serviceNetwork
            serverConfiguration.advertiseAddress = podFacing
            let serverLogger = logger
            server = APIServer(
                configuration: serverConfiguration, store: store, backend: "sqlite", security: security, logger: logger,
                metricsRegistry: configuration.metricsRegistry
            ) { boundPort in
                listeningPort.value.withLock { $0 = boundPort }
                let url = configuration.reachableURL(port: boundPort)
                do {
                    try security.writeAdminKubeconfig(serverURL: url)
                } catch {
                    serverLogger.error("cannot write the admin kubeconfig", metadata: ["error": "\(error)"])
                }
                onEvent(.listening(url: url, kubeconfig: configuration.adminKubeconfigPath))
            }
            self.store = store
            self.security = security
            client = server.client
            services = try Self.controlLoops(
                configuration, store: store, client: client, rootCertificate: security.pki?.caCertificatePEM, logger: logger)
            if var gitOps = configuration.gitOps {
                gitOps.source.inventoryDigestKey = InventoryDigestKey(
                    security.encryption.derivedKey(purpose: GitOpsServerConfiguration.inventoryDigestPurpose))
                let engine = try GitOpsServer(configuration: gitOps, client: client, clock: ContinuousClock(), logger: logger)
                server.routes += engine.routes
                server.gitOpsStatus = engine.status
                services.append(engine.service)
                onEvent(
                    .following(
                        repository: GitCredentials.redacted(gitOps.source.remote), branch: gitOps.source.branch,
                        webhookSecretPath: engine.webhookSecretPath))
            }
            if var node = configuration.node {
                if podFacing != nil, node.runsServiceProxy {
                    // Through the `kubernetes` Service, which the node's proxy sends to the server.
                    let address = APIServerAddress(host: configuration.serviceNetwork.apiServerServiceIP, port: 443)
                    node.agent.apiServerForPods = { address }
                } else if let podFacing {
                    // The configured port from the start (containers adopted or started before the
                    // server listens get it too); a port chosen at bind time once it is known.
                    let configuredPort = configuration.port == 0 ? nil : configuration.port
                    node.agent.apiServerForPods = {
                        (listeningPort.value.withLock { $0 } ?? configuredPort).map { APIServerAddress(host: podFacing, port: $0) }
                    }
                } else {
                    logger.notice(
                        "pods cannot reach the API server: it listens on loopback only (listen on an address pods reach, or set the advertise address)",
                        metadata: ["listen": "\(configuration.host)"])
                }
                if node.runsServiceProxy { node.agent.clusterDNS = [configuration.serviceNetwork.dnsServiceIP] }
                let embedded = try EmbeddedNode(
                    configuration: node, dataDirectory: configuration.dataDirectory, client: client,
                    logger: logger, onEvent: onEvent)
                services += embedded.services
                server.podStreaming = embedded.streaming
                if node.runsServiceProxy {
                    services += NodeServices.make(
                        nodeName: node.agent.nodeName, network: configuration.serviceNetwork, stateDirectory: configuration.dataDirectory,
                        resolvConf: node.agent.resolvConf, client: client, logLevel: logger.logLevel)
                }
            }
        } catch {
            store.close()
            throw error
        }
    }

    /// The registry behind the API, for attachments that need it.
    package var registry: ResourceRegistry { server.registry }

    /// Runs every service in one `ServiceGroup` until a signal (or the caller's
    /// cancellation) stops them gracefully, then closes the store.
    package func run(gracefulShutdownSignals: [UnixSignal] = [.sigterm, .sigint]) async throws {
        defer { store.close() }
        let group = ServiceGroup(
            configuration: .init(services: [server] + services, gracefulShutdownSignals: gracefulShutdownSignals, logger: logger))
        try await group.run()
    }

    /// The compactor, the shared informers, the scheduler and the controllers.
    private static func controlLoops(
        _ configuration: ControlPlaneConfiguration, store: SQLiteStore, client: InProcessClient, rootCertificate: String?, logger: Logger
    ) throws -> [any ServiceLifecycle.Service] {
        var services: [any ServiceLifecycle.Service] = []
        if let interval = configuration.compactionInterval {
            // As kube-apiserver does: every interval, drop the history older than the
            // revision seen one interval ago; a watch left behind gets 410 and relists.
            services.append(
                AutoCompactor(store: store, policy: .keepDuration(interval), logger: logger.component("compactor"), checkInterval: interval))
        }
        // One cache per kind for the whole process: the scheduler, the controllers
        // and the endpoints controller all read the same informers.
        let informers = SharedInformerFactory(client: client, logger: logger.component("informers"))
        services.append(informers)
        services.append(Scheduler(client: client, logger: logger.component("scheduler"), informers: informers))
        let controllerLogger = logger.component("controllers")
        var controllers = ControllerManager.Configuration(nodeMonitorGracePeriod: configuration.nodeMonitorGracePeriod)
        controllers.rootCertificate = rootCertificate
        services.append(ControllerManager(client: client, configuration: controllers, logger: controllerLogger, informers: informers))
        services.append(EndpointsController(client: client, logger: controllerLogger, informers: informers))
        return services
    }
}

/// The port the API server bound, once it listens: the embedded node reads it
/// when a container starts, to tell pods where the server is.
private final class BoundPort: Sendable {
    let value = Mutex<Int?>(nil)
}

extension Logger {
    /// This logger, its messages tagged with the component that logs them.
    func component(_ name: String) -> Logger {
        var logger = self
        logger[metadataKey: "component"] = "\(name)"
        return logger
    }
}
