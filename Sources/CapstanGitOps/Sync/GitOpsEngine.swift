public import CapstanCore
import CapstanAPIServer
import CapstanPolicy
public import Foundation
public import Logging

/// Where desired state comes from and how the engine treats it.
public struct GitOpsConfiguration: Sendable {
    /// The repository: a path, `file://`, `https://` or `ssh://` URL.
    public var remote: String
    public var branch: String
    /// The folder inside the repository holding `capstan.yaml` and the manifests ("" = the root).
    public var path: String
    /// Where Capstan keeps its clone.
    public var directory: String
    public var credentials: GitCredentials
    /// Overrides `syncInterval` from `capstan.yaml` when set (seconds).
    public var pollInterval: Double?
    /// Capstan's own policies (the project's top-level `policies/`), checked on every commit.
    public var defaultPolicies: [PolicyFile]
    /// Names this source in inventory labels.
    public var inventoryName: String
    /// Keys the digests the inventory records for Secrets (``InventoryDigestKey``).
    public var inventoryDigestKey: InventoryDigestKey

    public struct PolicyFile: Sendable {
        public var path: String
        public var contents: [UInt8]
        public init(path: String, contents: [UInt8]) {
            self.path = path
            self.contents = contents
        }
    }

    public init(
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
public actor GitOpsEngine {
    public let configuration: GitOpsConfiguration
    let cluster: any GitOpsCluster
    let mirror: GitMirror
    let renderer = ManifestRenderer()
    let logger: Logger
    let clock: any Clock<Duration>
    let now: @Sendable () -> Date

    /// What the last applied commit asked for, by identity.
    var desired: [ObjectIdentity: DesiredObject] = [:]
    var repositoryConfig = RepositoryConfig()
    var inventory = Inventory()
    var history: [SyncRecord] = []
    var appliedCommit: GitCommit?
    var appliedAt: Date?
    /// The commit of the last attempt and whether it needs no retry.
    var lastAttempt: (commit: String, settled: Bool)?
    var lastFetchError: String?
    var lastFetchAt: Date?
    var syncing = false
    var health = Health(status: .healthy, message: "")
    var healthCounts: [Health.Status: Int] = [:]
    var drift = DriftReport()
    var rolledBack: Set<String> = []
    /// Per-unit caches: digested objects, and units that passed the policies (by the policies' fingerprint).
    var desiredByUnit: [String: [DesiredObject]] = [:]
    var passedUnits: Set<String> = []
    var policyFingerprint = ""
    var started = false

    /// - Parameters:
    ///   - clock: paces health waits.
    ///   - now: the wall-clock dates records and reports carry.
    public init(
        configuration: GitOpsConfiguration, cluster: any GitOpsCluster, clock: any Clock<Duration> = ContinuousClock(), logger: Logger,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.configuration = configuration
        self.cluster = cluster
        self.mirror = GitMirror(remote: configuration.remote, branch: configuration.branch, directory: configuration.directory, credentials: configuration.credentials)
        self.logger = logger
        self.clock = clock
        self.now = now
    }

    /// The poll interval in force: the server's override, else the repository's.
    public var pollInterval: Double { configuration.pollInterval ?? repositoryConfig.syncIntervalSeconds }

    /// Reads what earlier runs left in the store: inventory and history.
    func start() async {
        guard !started else { return }
        do {
            // The engine's own records live in this namespace; it must exist before the first write.
            let namespace: JSONValue = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(Inventory.namespace)]]
            if try await cluster.get(ObjectIdentity(group: "", kind: "Namespace", namespace: "", name: Inventory.namespace), apiVersion: "v1") == nil {
                _ = try await cluster.apply(namespace, dryRun: false)
            }
            inventory = try await Inventory.load(from: cluster)
            history = try await SyncHistory.load(from: cluster)
            started = true
        } catch {
            logger.warning("could not read the GitOps inventory yet", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Sync

    /// Fetches and, when the branch moved (or `force`), applies its tip.
    /// Returns the record of the attempt, or nil when there was nothing to do.
    @discardableResult
    public func sync(trigger: String, force: Bool = false) async -> SyncRecord? {
        await start()
        let fetchStarted = now()
        let head: GitCommit
        do {
            head = try await mirror.sync().head
            lastFetchError = nil
        } catch {
            let message = "fetching \(configuration.branch) from \(GitCredentials.redacted(configuration.remote)) failed: \(error.message)"
            if lastFetchError != message { logger.error("git fetch failed", metadata: ["error": "\(message)"]) }
            lastFetchError = message
            lastFetchAt = fetchStarted
            return nil
        }
        lastFetchAt = fetchStarted
        if !force, let lastAttempt, lastAttempt.commit == head.id, lastAttempt.settled {
            return nil
        }
        syncing = true
        let record = await apply(commit: head, trigger: trigger, startedAt: fetchStarted)
        syncing = false
        return record
    }

    /// Renders, gates and applies one commit.
    func apply(commit: GitCommit, trigger: String, startedAt: Date) async -> SyncRecord {
        var record = SyncRecord(
            sequence: (history.last?.sequence ?? 0) + 1, commit: commit.id, author: "\(commit.authorName) <\(commit.authorEmail)>",
            message: commit.summary, startedAt: startedAt, trigger: trigger, result: .failed)
        var lapStarted = now()
        var lapName = "read"
        func lap(_ next: String) {
            let current = now()
            record.stepSeconds.append((lapName, current.timeIntervalSince(lapStarted)))
            lapStarted = current
            lapName = next
        }
        func finish(_ result: SyncRecord.Result, settled: Bool = true) async -> SyncRecord {
            lap("done")
            record.result = result
            record.duration = now().timeIntervalSince(startedAt)
            lastAttempt = (commit.id, settled)
            await remember(record)
            return record
        }

        // Render and validate the whole commit.
        let input: RenderInput
        do {
            input = try await commitInput(commit.id)
        } catch {
            record.errors = ["commit \(commit.shortID): cannot read its files: \(error)"]
            return await finish(.failed, settled: false)
        }
        lap("render")
        let rendered = await renderer.render(input)
        if !rendered.errors.isEmpty {
            record.errors = rendered.errors.map { "commit \(commit.shortID): \($0)" }
            return await finish(.failed)
        }

        // Policy gate: the repository's policies and Capstan's defaults, on
        // every unit that has not passed these same policies before.
        lap("policy")
        let gate = await policyGate(rendered: rendered, input: input)
        record.warnings += gate.warnings.map { "commit \(commit.shortID): \($0)" }
        if !gate.errors.isEmpty {
            record.errors = gate.errors.map { "commit \(commit.shortID): \($0)" }
            return await finish(.failed)
        }

        // Plan against the previous inventory; refuse mass pruning.
        lap("plan")
        let objects = desiredObjects(rendered)
        let plan = SyncPlan(desired: objects, inventory: inventory, reapplyAll: false)
        if rendered.config.prune,
            let refusal = SyncPlan.pruneRefusal(prune: plan.prune.count, inventoryCount: inventory.entries.count, desiredCount: objects.count, config: rendered.config)
        {
            record.errors = ["commit \(commit.shortID): \(refusal)"]
            return await finish(.failed)
        }

        lap("dryRun")
        // Dry run every object that changed: the API's own validation, before any write.
        let newNamespaces = Set(objects.filter { $0.identity.kind == "Namespace" }.map(\.identity.name))
        var dryRunErrors: [String] = []
        for object in plan.steps.joined() {
            do {
                _ = try await cluster.apply(object.stamped(commit: commit.id), dryRun: true)
            } catch {
                // An object in a namespace this same commit creates cannot be checked yet.
                if error.code == 404, newNamespaces.contains(object.identity.namespace) { continue }
                dryRunErrors.append("commit \(commit.shortID): \(object.file):\(object.line): \(object.identity): \(error.message)")
            }
        }
        if !dryRunErrors.isEmpty {
            // The cluster may change under the commit (a namespace created by hand): try again at the next poll.
            record.errors = dryRunErrors
            return await finish(.failed, settled: false)
        }

        lap("apply")
        // Apply, step by step; a step must be healthy before the next starts.
        var next = inventory
        next.commit = commit.id
        record.unchanged = plan.unchanged.count
        var stopped: SyncRecord.Result?
        stepLoop: for (index, step) in plan.steps.enumerated() {
            for object in step {
                do {
                    let applied = try await cluster.apply(object.stamped(commit: commit.id), dryRun: false)
                    if applied.created { record.created += 1 } else { record.updated += 1 }
                    next.entries[object.identity] = object.entry
                } catch {
                    record.errors.append("commit \(commit.shortID): \(object.file):\(object.line): \(object.identity): \(error.message)")
                    stopped = .failed
                    break stepLoop
                }
            }
            if index < plan.steps.count - 1 {
                let waited = await waitHealthy(step, timeout: rendered.config.healthTimeoutSeconds)
                if waited.status != .healthy {
                    record.errors.append("commit \(commit.shortID): sync stopped before the next wave: \(waited.message)")
                    stopped = .degraded
                    break stepLoop
                }
            }
        }
        for object in plan.unchanged { next.entries[object.identity] = object.entry }

        lap("prune")
        // Prune what left git — only objects Capstan's inventory owns.
        if stopped == nil, rendered.config.prune {
            for entry in plan.prune {
                do {
                    let live = try await cluster.get(entry.identity, apiVersion: entry.apiVersion)
                    guard let live else {
                        next.entries[entry.identity] = nil
                        continue
                    }
                    if live[path: ["metadata", "annotations", DesiredObject.pruneAnnotation]]?.stringValue == "disabled" {
                        record.warnings.append("\(entry.identity) left git but is kept: it is annotated \(DesiredObject.pruneAnnotation): disabled")
                        next.entries[entry.identity] = nil
                        continue
                    }
                    guard live[path: ["metadata", "labels", DesiredObject.inventoryLabel]]?.stringValue == configuration.inventoryName else {
                        record.warnings.append("\(entry.identity) left git but is kept: it no longer carries Capstan's inventory label")
                        next.entries[entry.identity] = nil
                        continue
                    }
                    try await cluster.delete(entry.identity, apiVersion: entry.apiVersion)
                    record.pruned += 1
                    next.entries[entry.identity] = nil
                } catch {
                    record.errors.append("pruning \(entry.identity): \(error.message)")
                }
            }
        } else if !plan.prune.isEmpty, !rendered.config.prune {
            record.warnings.append("\(plan.prune.count) objects left git and are kept because prune is off in capstan.yaml")
        }

        lap("record")
        // Remember the new inventory and desired state.
        do {
            try await next.save(to: cluster, previousChunkCount: inventory.chunkCount)
        } catch {
            record.errors.append("saving the inventory failed: \(error.message)")
        }
        inventory = next
        desired = Dictionary(objects.map { ($0.identity, $0) }, uniquingKeysWith: { _, last in last })
        repositoryConfig = rendered.config
        appliedCommit = commit
        appliedAt = now()
        drift = DriftReport()
        if let stopped { return await finish(stopped, settled: stopped != .failed) }
        lap("health")
        let current = await evaluateHealth()
        return await finish(current.status == .healthy ? .synced : current.status == .degraded ? .degraded : .progressing)
    }

    /// The files of `commit` under the configured folder, with paths relative to it.
    func commitInput(_ commit: String) async throws -> RenderInput {
        let prefix = configuration.path
        var files = try await mirror.files(at: commit, under: prefix)
        if !prefix.isEmpty {
            files = files.map { file in
                var file = file
                file.path = String(file.path.dropFirst(prefix.count + 1))
                return file
            }
        }
        let mirror = self.mirror
        return RenderInput(files: files) { file in try await mirror.contents(ofBlob: file.blobID) }
    }

    struct GateResult {
        var errors: [String] = []
        var warnings: [String] = []
    }

    /// Checks the rendered objects against the repository's policies and Capstan's defaults.
    /// - Parameter remember: whether passing units are remembered (not for `capstan diff`'s local trees).
    func policyGate(rendered: RenderedCommit, input: RenderInput, remember: Bool = true) async -> GateResult {
        let defaultFiles = configuration.defaultPolicies.map { (path: "capstan-defaults/" + $0.path, contents: $0.contents) }
        var files: [(path: String, contents: [UInt8])] = []
        let enforce = rendered.config.enforcePolicies
        var fingerprint = "defaults:\(defaultFiles.count);enforce:\(enforce.joined(separator: ","))"
        let folder = rendered.config.policiesPath.trimmingSlashes
        if !folder.isEmpty {
            for file in input.files.sorted(by: { $0.path < $1.path }) where file.path.isInside(folder) {
                let relative = String(file.path.dropFirst(folder.count + 1))
                guard PolicyLoader.isPolicyFile(relative), let contents = try? await input.read(file) else { continue }
                files.append((path: file.path, contents: contents))
                fingerprint += ",\(file.path)=\(file.blobID)"
            }
        }
        // Units that passed these very policies before need no second look;
        // a change to any policy file checks everything again.
        let known = remember && fingerprint == policyFingerprint ? passedUnits : []
        var toCheck: [Manifest] = []
        var index = rendered.manifests.startIndex
        let complete = rendered.units.reduce(0) { $0 + $1.manifestCount } == rendered.manifests.count
        for unit in rendered.units where complete {
            let slice = rendered.manifests[index..<(index + unit.manifestCount)]
            index += unit.manifestCount
            if !known.contains(unit.fingerprint) { toCheck += slice }
        }
        if !complete { toCheck = rendered.manifests }

        var result = GateResult()
        let defaults = PolicyLoader().load(files: defaultFiles)
        let own = PolicyLoader().load(files: files)
        let layers = PolicyLayers(defaults: defaults.policies, repository: own.policies).combined(enforcing: enforce)
        result.errors = (defaults.errors + own.errors + layers.errors).map { "policy \($0)" }
        for name in layers.unknownNames {
            let known = layers.policies.map(\.name).sorted().joined(separator: ", ")
            result.errors.append("\(RepositoryConfig.fileName): enforcePolicies: no policy is named \"\(name)\" (policies: \(known))")
        }
        let check = PolicyEngine(policies: layers.policies).check(toCheck)
        result.errors += check.errors.map(\.description)
        result.warnings += check.warnings.map(\.description)
        if remember, result.errors.isEmpty {
            policyFingerprint = fingerprint
            passedUnits = Set(rendered.units.map(\.fingerprint))
        }
        return result
    }

    /// The objects to apply, with their digests; reused per render unit
    /// while the unit's files are unchanged, so a one-file commit hashes one file's objects.
    func desiredObjects(_ rendered: RenderedCommit) -> [DesiredObject] {
        guard rendered.units.reduce(0, { $0 + $1.manifestCount }) == rendered.manifests.count else {
            return rendered.manifests.map(desiredObject)
        }
        var next: [String: [DesiredObject]] = [:]
        var objects: [DesiredObject] = []
        var index = rendered.manifests.startIndex
        for unit in rendered.units {
            let slice = rendered.manifests[index..<(index + unit.manifestCount)]
            index += unit.manifestCount
            let built = desiredByUnit[unit.fingerprint] ?? slice.map(desiredObject)
            next[unit.fingerprint] = built
            objects += built
        }
        desiredByUnit = next
        return objects
    }

    /// One rendered manifest as this source applies it: inventory marks and digest.
    func desiredObject(_ manifest: Manifest) -> DesiredObject {
        DesiredObject(manifest: manifest, inventory: configuration.inventoryName, digestKey: configuration.inventoryDigestKey)
    }

    /// Waits until every object of a step is healthy, it turns Degraded, or time runs out.
    func waitHealthy(_ step: [DesiredObject], timeout: Double) async -> Health {
        let deadline = now().addingTimeInterval(timeout)
        while true {
            var worst = Health.healthy
            for object in step {
                // Endpoints come from the workloads of later steps: between steps a Service counts as itself.
                let health = await health(of: object, endpoints: false)
                if health.status > worst.status {
                    worst = Health(status: health.status, message: "\(object.identity): \(health.message)")
                }
            }
            if worst.status == .healthy || worst.status == .degraded { return worst }
            if now() >= deadline {
                return Health(status: .degraded, message: "\(worst.message) (not healthy after \(Int(timeout))s)")
            }
            do { try await Task.sleep(for: .milliseconds(250)) } catch { return worst }
        }
    }

    /// Kinds whose health says more than "it exists"; existence of the rest is the drift check's business.
    static let kindsWithHealth: Set<String> = [
        "Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "Pod", "Job", "Service", "PersistentVolumeClaim", "Namespace",
    ]

    func health(of object: DesiredObject, endpoints: Bool = true) async -> Health {
        let live = try? await cluster.get(object.identity, apiVersion: object.apiVersion)
        var health = Health.of(live)
        if endpoints, health.status == .healthy, object.identity.kind == "Service", let live,
            !(live[path: ["spec", "selector"]]?.objectValue ?? [:]).isEmpty, live[path: ["spec", "type"]]?.stringValue != "ExternalName"
        {
            var endpoints = object.identity
            endpoints.kind = "Endpoints"
            health = Health.endpoints(try? await cluster.get(endpoints, apiVersion: "v1"))
        }
        return health
    }

    /// Recomputes the health of everything the applied commit holds.
    @discardableResult
    func evaluateHealth() async -> Health {
        var worst = Health.healthy
        var counts: [Health.Status: Int] = [:]
        for object in desired.values.sorted(by: { $0.identity < $1.identity }) {
            guard Self.kindsWithHealth.contains(object.identity.kind) else {
                counts[.healthy, default: 0] += 1
                continue
            }
            let health = await health(of: object)
            counts[health.status, default: 0] += 1
            if health.status > worst.status { worst = Health(status: health.status, message: "\(object.identity): \(health.message)") }
        }
        if worst.status == .progressing, let appliedAt, now().timeIntervalSince(appliedAt) > repositoryConfig.healthTimeoutSeconds {
            worst = Health(status: .degraded, message: "\(worst.message) (not healthy \(Int(repositoryConfig.healthTimeoutSeconds))s after the sync)")
        }
        health = worst
        healthCounts = counts
        return worst
    }

    func remember(_ record: SyncRecord) async {
        // A retry that fails the same way again is not news: keep one record of it.
        if let last = history.last, last.commit == record.commit, last.result == .failed, record.result == .failed, last.errors == record.errors {
            return
        }
        history.append(record)
        do {
            _ = try await cluster.apply(SyncHistory.configMap(record), dryRun: false)
            if history.count > SyncHistory.limit {
                for old in history.prefix(history.count - SyncHistory.limit) {
                    try? await cluster.delete(
                        ObjectIdentity(group: "", kind: "ConfigMap", namespace: Inventory.namespace, name: SyncHistory.name(old.sequence)), apiVersion: "v1")
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
    public func historyReport() -> JSONValue {
        ["items": .array(history.map(\.json))]
    }
}
