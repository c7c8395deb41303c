import CapstanAPI
package import CapstanCore
import Foundation

extension GitOpsEngine {
    /// What applying a local, uncommitted tree would change — `capstan diff`.
    /// The tree is rendered and policy-checked like a commit, every object is
    /// dry-run applied (the API's own validation), and compared with the live
    /// object; objects of the inventory that the tree lacks would be pruned.
    package func diff(files: [(path: String, contents: [UInt8])]) async -> DiffReport {
        let tree = files.map { file in
            GitTreeFile(path: file.path, blobID: ContentHash.sha256(file.contents))
        }
        let contents = Dictionary(files.map { ($0.path, $0.contents) }, uniquingKeysWith: { first, _ in first })
        var input = RenderInput(files: tree) { file in contents[file.path] ?? [] }
        // Kinds installed outside the repository count; without them they would look unknown.
        do {
            input.servedKinds = try await cluster.servedKinds()
        } catch {
            return DiffReport(
                baseCommit: applied.commit?.id, errors: ["cannot read the kinds the cluster serves: \(error)"], objects: [], unchanged: 0)
        }
        let rendered = await ManifestRenderer().render(input)
        var errors = rendered.errors.map(\.description)
        var noCache: PolicyCache?
        let gate = await PolicyGate(defaultPolicies: configuration.defaultPolicies).check(rendered, input: input, cache: &noCache)
        errors += gate.errors
        guard errors.isEmpty else { return DiffReport(baseCommit: applied.commit?.id, errors: errors, objects: [], unchanged: 0) }

        var objects: [DiffReport.Change] = []
        var unchanged = 0
        let plan = PlanStep(inventoryName: configuration.inventoryName, digestKey: configuration.inventoryDigestKey)
        let wanted = rendered.manifests.map(plan.desiredObject)
        for object in wanted.sorted(by: { $0.identity < $1.identity }) {
            do {
                _ = try await cluster.apply(object.stamped(commit: applied.commit?.id ?? "uncommitted"), dryRun: true)
                let live = try await cluster.get(object.identity, apiVersion: object.apiVersion)
                let pointers = rendered.config.ignoreDifferences.filter { $0.matches(object.identity) }.flatMap(\.jsonPointers)
                let differences = DriftDetector(ignoredPointers: pointers).differences(desired: object.object, live: live)
                if differences.isEmpty {
                    unchanged += 1
                    continue
                }
                objects.append(
                    live == nil
                        ? .init(.create, object.identity, apiVersion: object.apiVersion, file: object.file)
                        : .init(.update, object.identity, apiVersion: object.apiVersion, file: object.file, differences: differences))
            } catch {
                errors.append("\(object.file):\(object.line): \(object.identity): \(error.message)")
            }
        }
        let local = Set(wanted.map(\.identity))
        if rendered.config.prune {
            for entry in applied.inventory.entries.values.sorted() where !local.contains(entry.identity) {
                objects.append(.init(.prune, entry.identity, apiVersion: entry.apiVersion, file: entry.file))
            }
        }
        return DiffReport(baseCommit: applied.commit?.id, errors: errors, objects: objects, unchanged: unchanged)
    }
}
