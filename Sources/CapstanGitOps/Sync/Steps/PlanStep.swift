import CapstanCore

/// plan: digests each object (reusing a unit's digests while its files are
/// unchanged), compares them with the previous inventory, and refuses mass
/// pruning — the commit stalls unless `allowPruneAll`.
struct PlanStep: SyncStep {
    let name = "plan"
    let inventoryName: String
    let digestKey: InventoryDigestKey

    func run(_ run: inout SyncRun) async throws(SyncError) {
        guard let rendered = run.rendered else { return }
        let objects = desiredObjects(rendered, cache: &run.caches.desiredByUnit)
        let plan = SyncPlan(desired: objects, inventory: run.previous, reapplyAll: false)
        run.objects = objects
        run.plan = plan
        if rendered.config.prune,
            let refusal = SyncPlan.pruneRefusal(
                prune: plan.prune.count, inventoryCount: run.previous.entries.count, desiredCount: objects.count, config: rendered.config)
        {
            throw .stalled(["commit \(run.shortID): \(refusal)"])
        }
    }

    /// The objects to apply, with their digests; reused per render unit
    /// while the unit's files are unchanged, so a one-file commit hashes one file's objects.
    func desiredObjects(_ rendered: RenderedCommit, cache: inout [String: [DesiredObject]]) -> [DesiredObject] {
        guard rendered.units.reduce(0, { $0 + $1.manifestCount }) == rendered.manifests.count else {
            return rendered.manifests.map(desiredObject)
        }
        var next: [String: [DesiredObject]] = [:]
        var objects: [DesiredObject] = []
        var index = rendered.manifests.startIndex
        for unit in rendered.units {
            let slice = rendered.manifests[index..<(index + unit.manifestCount)]
            index += unit.manifestCount
            let built = cache[unit.fingerprint] ?? slice.map(desiredObject)
            next[unit.fingerprint] = built
            objects += built
        }
        cache = next
        return objects
    }

    /// One rendered manifest as this source applies it: inventory marks and digest.
    func desiredObject(_ manifest: Manifest) -> DesiredObject {
        DesiredObject(manifest: manifest, inventory: inventoryName, digestKey: digestKey)
    }
}
