package import CapstanAPI
package import CapstanClient
package import CapstanCore
package import CapstanPolicy
package import CapstanStore
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
package import Logging
package import Prometheus
package import ServiceLifecycle

/// The API server as a long-running service: Hummingbird over the registry.
package struct APIServer: ServiceLifecycle.Service {
    package struct Configuration: Sendable {
        package var host: String
        package var port: Int
        package var capstanVersion: String
        /// Body, list, watch and slow-client bounds.
        package var limits = RequestLimits()
        /// How long an Event outlives its last update, in seconds (0: forever).
        package var eventTTLSeconds: Int64 = 3600
        /// How long new pods tolerate a not-ready or unreachable node before eviction (`DefaultTolerationSeconds`).
        package var defaultTolerationSeconds: Int64 = PodDefaults.defaultTolerationSeconds
        /// The policies creates and updates are checked against, as validating admission
        /// (`--admission-policies`); empty turns policy admission off.
        package var admissionPolicies: [Policy] = []
        /// Where Services' ClusterIPs and NodePorts come from (`--service-cluster-ip-range`, `--service-node-port-range`).
        package var serviceNetwork = ServiceNetwork.standard
        /// The address pods reach the server at (`--advertise-address`), published as the
        /// `kubernetes` Service's endpoint; nil when pods cannot reach it.
        package var advertiseAddress: String?

        package init(host: String = "127.0.0.1", port: Int = 6443, capstanVersion: String) {
            self.host = host
            self.port = port
            self.capstanVersion = capstanVersion
        }
    }

    let configuration: Configuration
    /// Certificates, tokens and the Secrets key: TLS, who may do what, encryption at rest.
    package let security: ServerSecurity
    package let registry: ResourceRegistry
    package let status: StatusReporter
    /// Prometheus metrics served at `/metrics`; components may record their own into its registry.
    package let metrics: APIMetrics
    /// Records the API server's own Events (`Scaled`, `Scheduled` on a binding) through an
    /// ``InProcessClient``, so they take the same registry path as any other write.
    package let events: EventRecorder
    /// Roles, bindings and service accounts as the authorizer reads them, kept current by watches.
    let rbac = RBACCache()
    /// Signs and checks bound service-account tokens.
    let serviceAccountTokens: ServiceAccountTokens
    let logger: Logger
    /// Endpoints other modules serve beside the API (GitOps history, drift, webhook); set before ``run()``.
    package var routes: [APIRoute] = []
    /// The GitOps engine's part of `/status`; set before ``run()``.
    package var gitOpsStatus: (@Sendable () async -> JSONValue)?
    /// Answers `kubectl logs` and `kubectl exec` for pods' containers (the node agent); set before ``run()``.
    /// nil: those requests answer that no node agent is running the pod.
    package var podStreaming: (any PodStreaming)?
    let onListening: @Sendable (Int) async -> Void

    /// A client of this server's registry for the components of its process,
    /// able to request service-account tokens as the node agent does.
    package var client: InProcessClient { InProcessClient(registry: registry, serviceAccountTokens: serviceAccountTokens) }

    /// - Parameter metricsRegistry: where the server's metrics live and what `/metrics` serves;
    ///   the executable passes the registry it bootstrapped `MetricsSystem` with.
    /// - Parameter onListening: called with the bound port once the server accepts connections.
    package init(
        configuration: Configuration, store: any Store, backend: String, security: ServerSecurity, logger: Logger,
        metricsRegistry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.security = security
        self.metrics = APIMetrics(registry: metricsRegistry)
        self.registry = ResourceRegistry(
            store: store, encryption: security.encryption, metrics: metrics, eventTTLSeconds: configuration.eventTTLSeconds,
            defaultTolerationSeconds: configuration.defaultTolerationSeconds, admissionPolicies: configuration.admissionPolicies,
            mountsServiceAccountTokens: security.pki != nil, serviceNetwork: configuration.serviceNetwork)
        let registry = self.registry
        self.events = EventRecorder(
            client: InProcessClient(registry: registry), component: "kube-apiserver", logger: logger, now: { registry.now() })
        self.status = StatusReporter(registry: registry, store: store, backend: backend, version: configuration.capstanVersion)
        self.serviceAccountTokens = ServiceAccountTokens(key: security.serviceAccountKey, registry: registry, rbac: rbac, logger: logger)
        self.logger = logger
        self.onListening = onListening
    }

    package func run() async throws {
        try await ensureBuiltinNamespaces()
        try await ServiceAllocationRepair(registry: registry, logger: logger).run()
        try await BootstrapPolicy.reconcile(registry)
        // Loaded before the first request, so no request is judged on an empty policy.
        try await rbac.prime(registry)
        let definitions = CustomResourceDefinitionController(registry: registry, logger: logger)
        let definitionsRevision = try await definitions.prime()
        let routeAccess = Dictionary(routes.map { ("\($0.method) \($0.path)", $0.access) }, uniquingKeysWith: { first, _ in first })
        var access = AccessControl(tokens: security.pki == nil ? nil : security.tokens, registry: registry, rbac: rbac, routes: routeAccess)
        access.serviceAccountTokens = serviceAccountTokens
        let limits = configuration.limits
        var inner = APIResponder(
            registry: registry, status: status, capstanVersion: configuration.capstanVersion, logger: logger, access: access,
            metrics: metrics, limits: limits, events: events)
        inner.routes = routes
        inner.gitOpsStatus = gitOpsStatus
        inner.podStreaming = podStreaming
        inner.serviceAccountTokens = serviceAccountTokens
        let responder = ObservedResponder(
            inner: inner, catalog: registry.catalog, metrics: metrics, watches: WatchAdmission(limit: limits.maxWatchesPerClient),
            retryAfterSeconds: limits.watchRetryAfterSeconds)
        let onListening = self.onListening
        let clusterServices = ClusterServices(registry: registry, advertiseAddress: configuration.advertiseAddress)
        let (unpublishedPorts, unpublished) = AsyncStream<Int>.makeStream()
        let logger = self.logger
        // HTTP/1.1, with the WebSocket upgrade `kubectl exec` asks for (Streaming/ExecWebSocket.swift).
        let exec = ExecWebSocket(access: access, registry: registry, podStreaming: podStreaming, logger: logger)
        let http1 = HTTPServerBuilder { responder in
            UpgradeRoutingChannel(
                plain: HTTP1Channel(responder: responder),
                upgrading: HTTP1WebSocketUpgradeChannel(responder: responder, configuration: .init()) { head, _, _ in await exec.shouldUpgrade(head) }
            )
        }
        let server: HTTPServerBuilder
        if let tls = try security.tlsConfiguration() {
            server = try HTTPServerBuilder.tls(http1, tlsConfiguration: tls)
        } else {
            server = http1
        }
        let application = Application(
            responder: responder,
            server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "capstan"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                do {
                    try await clusterServices.reconcile(apiServerPort: port)
                } catch {
                    // Tried again in the background until it takes (the store may be busy at start).
                    logger.error("cannot publish the kubernetes and kube-dns Services; trying again", metadata: ["error": "\(error)"])
                    unpublished.yield(port)
                }
                await onListening(port)
            },
            logger: logger)
        // As one service of the caller's group: shut down in its turn, not on
        // the signal itself; the policy's watches and the definitions'
        // controller end with the server.
        let rbac = self.rbac
        let registry = self.registry
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await rbac.run(registry) }
            group.addTask { await definitions.run(from: definitionsRevision) }
            group.addTask {
                for await port in unpublishedPorts { await clusterServices.reconcileUntilDone(apiServerPort: port, logger: logger) }
            }
            try await application.run()
            group.cancelAll()
        }
    }

    /// `default`, `kube-system`, `kube-public` and `kube-node-lease` exist from the start, as in Kubernetes.
    package func ensureBuiltinNamespaces() async throws {
        for name in ResourceRegistry.builtinNamespaces.sorted() {
            let namespace: JSONValue = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]]
            if (try? await registry.get(BuiltinKinds.namespace, namespace: nil, name: name)) != nil { continue }
            _ = try await registry.create(BuiltinKinds.namespace, namespace: nil, object: namespace, options: .init(fieldManager: "capstan"))
        }
    }
}
