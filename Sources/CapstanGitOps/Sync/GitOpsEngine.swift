import CapstanAPI
package import CapstanCore
import CapstanPolicy
package import Foundation
package import Logging

/// Where desired state comes from and how the engine treats it.
package struct GitOpsConfiguration: Sendable {
    /// The repository: a path, `file://`, `https://` or `ssh://` URL.
    package var remote: String
    package var branch: String
    /// The folder inside the repository holding `capstan.yaml` and the manifests ("" = the root).
    package var path: String
    /// Where Capstan keeps its clone.
    package var directory: String
    package var credentials: GitCredentials
    /// Overrides `syncInterval` from `capstan.yaml` when set (seconds).
    package var pollInterval: Double?
    /// Capstan's own policies (the project's top-level `policies/`), checked on every commit.
    package var defaultPolicies: [PolicyFile]
    /// Names this source in inventory labels.
    package var inventoryName: String
    /// Keys the digests the inventory records for Secrets (``InventoryDigestKey``).
    package var inventoryDigestKey: InventoryDigestKey

    package struct PolicyFile: Sendable {
        package var path: String
        package var contents: [UInt8]
        package init(path: String, contents: [UInt8]) {
            self.path = path
            self.contents = contents
        }
    }

    package init(
        remote: String, branch: String = "main", path: String = "", directory: String, credentials: GitCredentials = .none,
        pollInterval: Double? = nil, defaultPolicies: [PolicyFile] = [], inventoryName: String = "default",
        inventoryDigestKey: InventoryDigestKey = .random()
    ) {
        self.remote = remote
        self.branch = branch
        self.path = path.trimmingSlashes
        self.directory = directory
        self.credentials = credentials
        self.pollInterval = pollInterval
        self.defaultPolicies = defaultPolicies
        self.inventoryName = inventoryName
        self.inventoryDigestKey = inventoryDigestKey
    }
}

/// The GitOps engine: git as the only source of desired state.
///
/// A sync is a pipeline of small steps — fetch → render → policy gate →
/// plan → dry run → apply in ordered steps → prune → record — and a commit
/// with any error stops before the first write, so the last good commit
/// stays applied. Drift checks and self-heal compare the cluster with the
/// last applied commit. Every method runs on this actor, one at a time;
/// ``GitOpsService`` drives it.
package actor GitOpsEngine {
    package let configuration: GitOpsConfiguration
    let cluster: any GitOpsCluster
    let mirror: GitMirror
    let renderer = ManifestRenderer()
    let logger: Logger
    let clock: any Clock<Duration>
    let now: @Sendable () -> Date

    /// The last fetch and attempt.
    var source = SourceState()
    /// What the last applied commit put in the cluster, and how it fares.
    var applied = AppliedState()
    /// Every attempt, oldest first (at most ``SyncHistory/limit``).
    var history: [SyncRecord] = []
    /// Work remembered between syncs (per-unit digests, policy passes).
    var caches = SyncCaches()
    /// Commits auto-rollback has reverted: each is reverted once.
    var rolledBack: Set<String> = []
    var started = false

    /// - Parameters:
    ///   - clock: paces health waits.
    ///   - now: the wall-clock dates records and reports carry.
    package init(
        configuration: GitOpsConfiguration, cluster: any GitOpsCluster, clock: any Clock<Duration> = ContinuousClock(), logger: Logger,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.configuration = configuration
        self.cluster = cluster
        self.mirror = GitMirror(
            remote: configuration.remote, branch: configuration.branch, directory: configuration.directory, credentials: configuration.credentials)
        self.logger = logger
        self.clock = clock
        self.now = now
    }

    /// The poll interval in force: the server's override, else the repository's.
    package var pollInterval: Double { configuration.pollInterval ?? applied.config.syncIntervalSeconds }

    /// Reads what earlier runs left in the store: inventory and history.
    func start() async {
        guard !started else { return }
        do {
            // The engine's own records live in this namespace; it must exist before the first write.
            let namespace: JSONValue = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(Inventory.namespace)]]
            if try await cluster.get(ObjectIdentity(group: "", kind: "Namespace", namespace: "", name: Inventory.namespace), apiVersion: "v1") == nil
            {
                _ = try await cluster.apply(namespace, dryRun: false)
            }
            applied.inventory = try await Inventory.load(from: cluster)
            history = try await SyncHistory.load(from: cluster)
            started = true
        } catch {
            logger.warning("could not read the GitOps inventory yet", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Sync

    /// The steps of a sync after fetch, in order (see docs/gitops.md).
    var steps: [any SyncStep] {
        [
            RenderStep(
                read: RenderStep.reader(mirror: mirror, path: configuration.path), renderer: renderer,
                servedKinds: { [cluster] in try await cluster.servedKinds() }),
            PolicyStep(gate: PolicyGate(defaultPolicies: configuration.defaultPolicies)),
            PlanStep(inventoryName: configuration.inventoryName, digestKey: configuration.inventoryDigestKey),
            DryRunStep(cluster: cluster),
            ApplyStep(cluster: cluster, health: healthCheck),
            PruneStep(cluster: cluster, inventoryName: configuration.inventoryName),
            RecordStep(cluster: cluster),
            HealthStep(health: healthCheck),
        ]
    }

    var healthCheck: HealthCheck { HealthCheck(cluster: cluster, clock: clock) }

    /// Fetches and, when the branch moved (or `force`), applies its tip.
    /// Returns the record of the attempt, or nil when there was nothing to do.
    @discardableResult
    package func sync(trigger: String, force: Bool = false) async -> SyncRecord? {
        await start()
        let fetchStarted = now()
        let elapsed = clock.stopwatch()
        let fetched = await FetchStep(mirror: mirror, configuration: configuration).run(lastAttempt: source.lastAttempt, force: force)
        source.fetchedAt = fetchStarted
        let head: GitCommit
        switch fetched {
        case .failed(let message):
            if source.fetchError != message { logger.error("git fetch failed", metadata: ["error": "\(message)"]) }
            source.fetchError = message
            return nil
        case .upToDate:
            source.fetchError = nil
            return nil
        case .sync(let commit):
            source.fetchError = nil
            head = commit
        }
        source.syncing = true
        defer { source.syncing = false }
        return await apply(commit: head, trigger: trigger, startedAt: fetchStarted, elapsed: elapsed)
    }

    /// Runs one commit through the steps, adopts what they applied, and records the attempt.
    func apply(commit: GitCommit, trigger: String, startedAt: Date, elapsed: @escaping @Sendable () -> Duration) async -> SyncRecord {
        var run = SyncRun(
            commit: commit,
            record: SyncRecord(
                sequence: (history.last?.sequence ?? 0) + 1, commit: commit.id, author: "\(commit.authorName) <\(commit.authorEmail)>",
                message: commit.summary, startedAt: startedAt, trigger: trigger, result: .failed),
            previous: applied.inventory, caches: caches)
        run.record.stepSeconds.append(("fetch", elapsed().seconds))
        for step in steps where step.shouldRun(run) {
            let stepTime = clock.stopwatch()
            do {
                try await step.run(&run)
            } catch {
                run.failure = error
                run.record.errors += error.messages
            }
            run.record.stepSeconds.append((step.name, stepTime().seconds))
        }
        caches = run.caches
        adopt(run)
        run.record.result = run.failure?.result ?? run.record.result
        run.record.duration = elapsed().seconds
        source.lastAttempt = (commit.id, run.failure?.kind != .retryable)
        await remember(run.record)
        return run.record
    }

    /// Makes what a sync applied the engine's view: the new inventory, the
    /// commit's objects and settings, and their health. A sync stopped before
    /// its first write leaves everything as it was.
    func adopt(_ run: SyncRun) {
        guard let next = run.next, let rendered = run.rendered else { return }
        applied.inventory = next
        applied.desired = Dictionary(run.objects.map { ($0.identity, $0) }, uniquingKeysWith: { _, last in last })
        applied.config = rendered.config
        applied.commit = run.commit
        applied.appliedAt = now()
        applied.drift = DriftLedger()
        if let summary = run.health { applied.health = summary }
    }

    /// Recomputes the health of everything the applied commit holds; an
    /// object still Progressing `healthTimeout` after the sync counts as Degraded.
    @discardableResult
    func evaluateHealth() async -> Health {
        let summary = await healthCheck.summary(of: Array(applied.desired.values))
        var worst = summary.worst
        if worst.status == .progressing, let appliedAt = applied.appliedAt, now().timeIntervalSince(appliedAt) > applied.config.healthTimeoutSeconds {
            worst = Health(status: .degraded, message: "\(worst.message) (not healthy \(Int(applied.config.healthTimeoutSeconds))s after the sync)")
        }
        applied.health = HealthSummary(worst: worst, counts: summary.counts)
        return worst
    }

    func remember(_ record: SyncRecord) async {
        // A retry that fails the same way again is not news: keep one record of it.
        if let last = history.last, last.commit == record.commit, last.result == .failed, record.result == .failed, last.errors == record.errors {
            return
        }
        history.append(record)
        do {
            _ = try await cluster.apply(try SyncHistory.configMap(record), dryRun: false)
            if history.count > SyncHistory.limit {
                for old in history.prefix(history.count - SyncHistory.limit) {
                    try? await cluster.delete(
                        ObjectIdentity(group: "", kind: "ConfigMap", namespace: Inventory.namespace, name: SyncHistory.name(old.sequence)),
                        apiVersion: "v1")
                }
                history.removeFirst(history.count - SyncHistory.limit)
            }
        } catch {
            logger.error("could not record a sync", metadata: ["error": "\(error)"])
        }
        let level: Logger.Level = record.result == .failed ? .error : .info
        logger.log(
            level: level, "sync \(record.result.rawValue)",
            metadata: [
                "commit": "\(record.commit.prefix(8))", "created": "\(record.created)", "updated": "\(record.updated)", "pruned": "\(record.pruned)",
                "unchanged": "\(record.unchanged)", "errors": "\(record.errors.joined(separator: "; "))",
            ])
    }

    // MARK: Reports

    /// The sync records, oldest first.
    package func historyReport() -> HistoryReport {
        HistoryReport(items: history)
    }
}
