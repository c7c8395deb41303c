import CapstanAPI
import CapstanCore

/// dry run: every changed object through the API's own server-side apply
/// with `dryRun`, so admission and validation errors stop the commit before
/// the first write. The cluster may change under the commit (a namespace
/// made by hand), so a refusal is retried at the next poll.
struct DryRunStep: SyncStep {
    let name = "dryRun"
    let cluster: any GitOpsCluster

    func run(_ run: inout SyncRun) async throws(SyncError) {
        guard let plan = run.plan else { return }
        let newNamespaces = Set(run.objects.filter { $0.identity.kind == "Namespace" }.map(\.identity.name))
        let definedKinds = Set(CustomResourceDefinition.kinds(definedIn: run.objects.map(\.object)).map { "\($0.apiVersion)/\($0.kind)" })
        var errors: [String] = []
        for object in plan.steps.joined() {
            do {
                _ = try await cluster.apply(object.stamped(commit: run.commit.id), dryRun: true)
            } catch {
                // An object in a namespace this same commit creates cannot be checked yet.
                if error.code == 404, newNamespaces.contains(object.identity.namespace) { continue }
                // Nor can an object of a kind this commit defines, before its definition is established.
                if error.code == 404, definedKinds.contains("\(object.apiVersion)/\(object.identity.kind)") { continue }
                errors.append("commit \(run.shortID): \(object.file):\(object.line): \(object.identity): \(error.message)")
            }
        }
        guard errors.isEmpty else { throw .retryable(errors) }
    }
}
