import CapstanAPI
import CapstanAPIServer
import CapstanCore
import CapstanGitOps
import Foundation

/// The GitOps engine's view of the cluster, served in-process by the API
/// server's registry: the same validation, admission and storage path a
/// kubectl request takes, without HTTP in between.
struct RegistryGitOpsCluster: GitOpsCluster {
    let registry: ResourceRegistry

    private func kind(_ apiVersion: String, _ kind: String) throws(ClusterError) -> KindInfo {
        guard let info = BuiltinKinds.lookup(apiVersion: apiVersion, kind: kind) else {
            throw ClusterError(code: 404, reason: "NotFound", message: "the server doesn't have a resource type \"\(kind)\" in \(apiVersion)")
        }
        return info
    }

    private static func map(_ error: APIError) -> ClusterError {
        ClusterError(code: error.code, reason: error.reason, message: error.message)
    }

    func apply(_ object: JSONValue, dryRun: Bool) async throws(ClusterError) -> AppliedObject {
        let info = try kind(object["apiVersion"]?.stringValue ?? "", object["kind"]?.stringValue ?? "")
        let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
        let namespace = info.namespaced ? (object[path: ["metadata", "namespace"]]?.stringValue ?? "default") : nil
        do {
            let (stored, created) = try await registry.apply(
                info, namespace: namespace, name: name, configuration: object,
                options: .init(fieldManager: RegistryGitOpsCluster.fieldManager, dryRun: dryRun), force: true)
            return AppliedObject(object: stored, created: created)
        } catch {
            throw Self.map(error)
        }
    }

    func get(_ identity: ObjectIdentity, apiVersion: String) async throws(ClusterError) -> JSONValue? {
        let info = try kind(apiVersion, identity.kind)
        do {
            return try await registry.get(info, namespace: info.namespaced ? identity.namespace : nil, name: identity.name)
        } catch {
            if error.code == 404 { return nil }
            throw Self.map(error)
        }
    }

    func delete(_ identity: ObjectIdentity, apiVersion: String) async throws(ClusterError) {
        let info = try kind(apiVersion, identity.kind)
        do {
            _ = try await registry.delete(info, namespace: info.namespaced ? identity.namespace : nil, name: identity.name)
        } catch {
            if error.code == 404 { return }
            throw Self.map(error)
        }
    }

    func list(apiVersion: String, kind kindName: String, labelSelector: String?) async throws(ClusterError) -> [JSONValue] {
        let info = try kind(apiVersion, kindName)
        var options = ListOptions()
        if let labelSelector {
            do {
                options.labelSelector = try LabelSelector(parsing: labelSelector)
            } catch {
                throw ClusterError(code: 400, reason: "BadRequest", message: "\(error)")
            }
        }
        do {
            return try await registry.list(info, namespace: nil, options: options).items
        } catch {
            throw Self.map(error)
        }
    }

    func changes(of kinds: [KindInfo]) -> AsyncStream<ObjectIdentity> {
        let registry = self.registry
        return AsyncStream(bufferingPolicy: .bufferingNewest(10_000)) { continuation in
            let task = Task {
                await withTaskGroup(of: Void.self) { group in
                    for info in kinds {
                        group.addTask {
                            // List, then watch (no resourceVersion): the objects as they are come
                            // first, so a change made between a sync and the start of this watch
                            // is seen at once rather than at the next full drift pass. Follow
                            // until cancelled, starting over the same way when a watch ends.
                            while !Task.isCancelled {
                                try? await registry.watch(info, namespace: nil, options: ListOptions()) { event in
                                    guard event.type != .bookmark, event.type != .error else { return }
                                    let meta = event.object["metadata"]
                                    continuation.yield(
                                        ObjectIdentity(
                                            group: info.group, kind: info.kind, namespace: meta?["namespace"]?.stringValue ?? "",
                                            name: meta?["name"]?.stringValue ?? ""))
                                }
                                try? await Task.sleep(for: .milliseconds(500))
                            }
                        }
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
