import CapstanAPI
import CapstanCore

/// apply: server-side apply as `capstan-gitops`, in the plan's steps; a step
/// must be healthy before the next starts. A refused apply fails the sync
/// (retried at the next poll); a step that does not become healthy in
/// `healthTimeout` stops it Degraded. Either way the inventory records what
/// was applied, so ``RecordStep`` runs after it.
struct ApplyStep: SyncStep {
    let name = "apply"
    let cluster: any GitOpsCluster
    let health: HealthCheck

    func run(_ run: inout SyncRun) async throws(SyncError) {
        guard let plan = run.plan, let rendered = run.rendered else { return }
        var next = run.previous
        next.commit = run.commit.id
        run.record.unchanged = plan.unchanged.count
        for object in plan.unchanged { next.entries[object.identity] = object.entry }
        defer { run.next = next }
        for (index, step) in plan.steps.enumerated() {
            for object in step {
                do {
                    let applied = try await cluster.apply(object.stamped(commit: run.commit.id), dryRun: false)
                    if applied.created { run.record.created += 1 } else { run.record.updated += 1 }
                    next.entries[object.identity] = object.entry
                } catch {
                    throw .retryable(["commit \(run.shortID): \(object.file):\(object.line): \(object.identity): \(error.message)"])
                }
            }
            if index < plan.steps.count - 1 {
                let waited = await health.wait(for: step, timeout: .milliseconds(Int64(rendered.config.healthTimeoutSeconds * 1000)))
                if waited.status != .healthy {
                    throw .stalled(["commit \(run.shortID): sync stopped before the next wave: \(waited.message)"], result: .degraded)
                }
            }
        }
    }
}

/// prune: deletes what left git — only objects Capstan's inventory owns that
/// still carry its label; `capstan.io/prune: disabled` keeps one. A failed
/// delete is reported and the object stays in the inventory for next time.
struct PruneStep: SyncStep {
    let name = "prune"
    let cluster: any GitOpsCluster
    let inventoryName: String

    func shouldRun(_ run: SyncRun) -> Bool { run.next != nil }

    func run(_ run: inout SyncRun) async throws(SyncError) {
        guard let plan = run.plan, let rendered = run.rendered, var next = run.next else { return }
        defer { run.next = next }
        guard run.failure == nil, rendered.config.prune else {
            if !plan.prune.isEmpty, !rendered.config.prune {
                run.record.warnings.append("\(plan.prune.count) objects left git and are kept because prune is off in capstan.yaml")
            }
            return
        }
        for entry in plan.prune {
            do {
                guard let live = try await cluster.get(entry.identity, apiVersion: entry.apiVersion) else {
                    next.entries[entry.identity] = nil
                    continue
                }
                if live[path: ["metadata", "annotations", DesiredObject.pruneAnnotation]]?.stringValue == "disabled" {
                    run.record.warnings.append("\(entry.identity) left git but is kept: it is annotated \(DesiredObject.pruneAnnotation): disabled")
                    next.entries[entry.identity] = nil
                    continue
                }
                guard live[path: ["metadata", "labels", DesiredObject.inventoryLabel]]?.stringValue == inventoryName else {
                    run.record.warnings.append("\(entry.identity) left git but is kept: it no longer carries Capstan's inventory label")
                    next.entries[entry.identity] = nil
                    continue
                }
                try await cluster.delete(entry.identity, apiVersion: entry.apiVersion)
                run.record.pruned += 1
                next.entries[entry.identity] = nil
            } catch {
                run.record.errors.append("pruning \(entry.identity): \(error.message)")
            }
        }
    }
}

/// record: writes the new inventory to the store (the sync record itself is
/// written when the sync finishes). Runs whenever anything may have been applied.
struct RecordStep: SyncStep {
    let name = "record"
    let cluster: any GitOpsCluster

    func shouldRun(_ run: SyncRun) -> Bool { run.next != nil }

    func run(_ run: inout SyncRun) async throws(SyncError) {
        guard let next = run.next else { return }
        do {
            try await next.save(to: cluster, previousChunkCount: run.previous.chunkCount)
        } catch {
            run.record.errors.append("saving the inventory failed: \(error.message)")
        }
    }
}

/// health: how the applied objects stand right after the sync; decides
/// whether the record reads Synced, Progressing or Degraded.
struct HealthStep: SyncStep {
    let name = "health"
    let health: HealthCheck

    func run(_ run: inout SyncRun) async throws(SyncError) {
        let summary = await health.summary(of: run.objects)
        run.health = summary
        run.record.result = summary.worst.status == .healthy ? .synced : summary.worst.status == .degraded ? .degraded : .progressing
    }
}
