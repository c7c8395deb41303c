package import CapstanAPI
package import CapstanCore
package import CapstanStore
import Foundation
import OrderedCollections

/// `/status`: one document for people and scripts saying how the cluster
/// stands — version, uptime, store, nodes, pods by phase, and the GitOps sync.
package actor StatusReporter {
    private let registry: ResourceRegistry
    private let store: any Store
    /// `sqlite` or `etcd`.
    nonisolated let backend: String
    private let version: String
    private let started = Date()
    package init(registry: ResourceRegistry, store: any Store, backend: String, version: String) {
        self.registry = registry
        self.store = store
        self.backend = backend
        self.version = version
    }

    /// - Parameter gitOps: the GitOps engine's slot (synced commit, sync state, health, drift summary), when one runs.
    package func report(gitOps: JSONValue? = nil) async -> JSONValue {
        var report: JSONObject = [
            "version": .string(version),
            "uptimeSeconds": .int(Int64(Date().timeIntervalSince(started))),
        ]
        var storeReport: JSONObject = ["backend": .string(backend)]
        if let status = try? await store.status() {
            storeReport["revision"] = .int(status.revision)
            storeReport["compactRevision"] = .int(status.compactRevision)
            storeReport["sizeBytes"] = .int(status.sizeOnDisk)
        } else {
            storeReport["error"] = "the store did not answer"
        }
        report["store"] = .object(storeReport)
        let nodes = (try? await registry.list(BuiltinKinds.node, namespace: nil, options: ListOptions()).items) ?? []
        let ready = nodes.filter { Node(jsonValue: $0)?.status.conditions.first { $0.type == "Ready" }?.isTrue ?? false }.count
        report["nodes"] = ["total": .int(Int64(nodes.count)), "ready": .int(Int64(ready))]
        let pods = (try? await registry.list(BuiltinKinds.pod, namespace: nil, options: ListOptions()).items) ?? []
        var phases: JSONObject = ["Pending": 0, "Running": 0, "Succeeded": 0, "Failed": 0, "Unknown": 0]
        for pod in pods {
            let phase = pod[path: ["status", "phase"]]?.stringValue ?? "Pending"
            phases[phase] = .int((phases[phase]?.intValue ?? 0) + 1)
        }
        report["pods"] = ["total": .int(Int64(pods.count)), "byPhase": .object(phases)]
        report["gitops"] = gitOps ?? ["state": "NotConfigured", "message": "no git repository is configured; start capstan server with --repo"]
        return .object(report)
    }
}
