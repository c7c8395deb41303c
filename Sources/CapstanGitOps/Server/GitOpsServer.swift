package import CapstanAPI
package import CapstanClient
package import CapstanCore
package import Foundation
package import Logging

/// How one server runs GitOps: where desired state comes from, and the webhook's secret.
package struct GitOpsServerConfiguration: Sendable {
    package var source: GitOpsConfiguration
    package var webhookSecret: WebhookSecretFile

    package init(source: GitOpsConfiguration, webhookSecret: WebhookSecretFile) {
        self.source = source
        self.webhookSecret = webhookSecret
    }

    /// HKDF `info` under which a server derives ``GitOpsConfiguration/inventoryDigestKey``
    /// from its Secrets key: changing it re-applies every Secret once.
    package static let inventoryDigestPurpose = "capstan gitops inventory digest v1"
}

/// GitOps as one server runs it: the engine's service, its HTTP routes and
/// its `/status` slot, built from a configuration and a cluster client.
/// Nothing runs until the service does.
package struct GitOpsServer: Sendable {
    package let service: GitOpsService
    /// `/history`, `/drift`, `/sync`, `/rollback`, `/diff`, `/hooks/git` (``GitOpsRoutes``).
    package let routes: [APIRoute]
    /// Where the webhook secret is (made now when it was missing).
    package let webhookSecretPath: String

    /// - Parameters:
    ///   - client: every GitOps read and write goes through it, so it gets the API's checks.
    ///   - clock: paces polls, health waits and drift passes.
    ///   - wallClock: the dates records and reports carry.
    /// - Throws: ``GitOpsSetupError`` when the webhook secret can be neither read nor made.
    package init(
        configuration: GitOpsServerConfiguration, client: any ClusterClient, clock: any Clock<Duration>, logger: Logger,
        wallClock: @escaping @Sendable () -> Date = Date.init
    ) throws(GitOpsSetupError) {
        var logger = logger
        logger[metadataKey: "component"] = "gitops"
        let engine = GitOpsEngine(
            configuration: configuration.source, cluster: ClientGitOpsCluster(client: client), clock: clock, logger: logger, now: wallClock)
        let service = GitOpsService(engine: engine, clock: clock, logger: logger)
        let secret = try configuration.webhookSecret.load()
        self.service = service
        self.webhookSecretPath = configuration.webhookSecret.path
        self.routes = GitOpsRoutes(engine: engine, service: service, webhook: Webhook(secret: secret, branch: configuration.source.branch)).all
    }

    /// The `gitops` slot of `GET /status`.
    package var status: @Sendable () async -> JSONValue {
        let engine = service.engine
        return {
            let report = await engine.statusReport()
            do {
                return try GitOpsReportCoding.json(report)
            } catch {
                return ["state": .string(report.state.rawValue), "message": .string("the report could not be encoded: \(error)")]
            }
        }
    }
}
