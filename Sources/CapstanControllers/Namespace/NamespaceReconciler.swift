import CapstanAPI
import CapstanClient
import CapstanCore
import Foundation
import Logging
import OrderedCollections

/// Empties a namespace being deleted, then lets it go, as Kubernetes'
/// namespace controller does.
///
/// The registry turns `DELETE namespaces/x` into phase `Terminating`, held by
/// the `kubernetes` entry in `spec.finalizers`. Each pass deletes every object
/// of every namespaced kind in it (pods on a node end gracefully, through
/// their node agent; the rest go at once unless finalizers hold them), looks
/// again, writes the deletion conditions to `namespaces/x/status`, and once
/// nothing is left removes its finalizer through `namespaces/x/finalize` —
/// the registry then removes the namespace. Until then it looks again every
/// `recheckInterval` (and whenever a pod in the namespace goes).
struct NamespaceReconciler: Reconciler {
    static let fieldManager = "namespace-controller"

    let client: any ClusterClient
    let logger: Logger
    /// The kinds deleted with a namespace; nil: every namespaced kind the
    /// server serves at the time, custom ones included (one version each).
    var kinds: [KindInfo]?
    var recheckInterval: Duration = .seconds(1)
    /// What the deletion conditions' times are written from.
    var wallClock: any WallClock = SystemWallClock()

    var options: WriteOptions { WriteOptions(fieldManager: Self.fieldManager) }

    static func namespacedKinds(_ served: [KindInfo]) -> [KindInfo] {
        var seen: Set<String> = []
        return served.filter { $0.namespaced && seen.insert("\($0.group)/\($0.resource)").inserted }
    }

    func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard let namespace = try await client.fetch(Namespace.self, key), namespace.metadata.deletionTimestamp != nil,
            Self.specFinalizers(of: namespace).contains(Namespace.kubernetesFinalizer)
        else { return .done }
        let name = namespace.metadata.name

        var content = NamespaceContent()
        var served = kinds ?? []
        if kinds == nil { served = Self.namespacedKinds(try await client.servedKinds()) }
        for kind in served {
            do {
                try await deleteAll(kind, in: name)
            } catch {
                content.failures.append("\(NamespaceContent.resourceName(kind)): \(error)")
            }
            do {
                content.count(try await client.list(kind, namespace: name, options: ListOptions()).items, kind)
            } catch {
                content.failures.append("\(NamespaceContent.resourceName(kind)): \(error)")
            }
        }

        var current = namespace
        let conditions = content.conditions(
            replacing: namespace.json["status"]?["conditions"]?.arrayValue ?? [], now: Timestamps.format(wallClock.currentDate))
        if let conditions {
            var updated = namespace
            var status = updated.json["status"]?.objectValue ?? [:]
            status["conditions"] = .array(conditions)
            updated.json["status"] = .object(status)
            let written = try await client.update(
                Namespace.kindInfo, namespace: nil, name: name, object: updated.jsonValue, options: options, subresource: "status")
            current = Namespace(jsonValue: written) ?? current
        }
        if !content.failures.isEmpty {
            throw NamespaceDeletionError(namespace: name, failures: content.failures)
        }
        guard content.isEmpty else {
            logger.debug("namespace still has content", metadata: ["namespace": "\(name)", "remaining": "\(content.remaining)"])
            return .requeueAfter(recheckInterval)
        }
        // `--cascade=orphan|foreground` on a namespace: nothing is owned by a
        // namespace, so with its content gone those finalizers have nothing left to wait for.
        let collectorFinalizers = [GarbageCollector.orphanFinalizer, GarbageCollector.foregroundFinalizer]
        if current.metadata.finalizers.contains(where: collectorFinalizers.contains) {
            var released = current
            released.metadata.finalizers.removeAll(where: collectorFinalizers.contains)
            let written = try await client.update(Namespace.kindInfo, namespace: nil, name: name, object: released.jsonValue, options: options)
            current = Namespace(jsonValue: written) ?? current
        }
        var finalized = current
        var spec = finalized.json["spec"]?.objectValue ?? [:]
        spec["finalizers"] = .array(Self.specFinalizers(of: current).filter { $0 != Namespace.kubernetesFinalizer }.map { .string($0) })
        finalized.json["spec"] = .object(spec)
        do {
            _ = try await client.update(
                Namespace.kindInfo, namespace: nil, name: name, object: finalized.jsonValue, options: options, subresource: "finalize")
            logger.info("namespace emptied; removed its finalizer", metadata: ["namespace": "\(name)"])
        } catch let error as APIError {
            if error.code != 404 { throw error }
        }
        return .done
    }

    /// Deletes what is not being deleted yet; what vanished meanwhile is fine.
    private func deleteAll(_ kind: KindInfo, in namespace: String) async throws {
        for item in try await client.list(kind, namespace: namespace, options: ListOptions()).items {
            guard let object = Unstructured(jsonValue: item), object.metadata.deletionTimestamp == nil else { continue }
            try await client.deleteIfPresent(kind, namespace: namespace, name: object.metadata.name, uid: object.metadata.uid)
        }
    }

    static func specFinalizers(of namespace: Namespace) -> [String] {
        namespace.json["spec"]?["finalizers"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }
}

/// A namespace that could not be emptied; retried with backoff.
struct NamespaceDeletionError: Error, CustomStringConvertible {
    var namespace: String
    var failures: [String]
    var description: String { "deleting the content of namespace \(namespace) failed: \(failures.joined(separator: "; "))" }
}
