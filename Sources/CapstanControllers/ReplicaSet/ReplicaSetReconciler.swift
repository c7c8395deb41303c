import CapstanAPI
import CapstanClient
import CapstanCore
import Foundation
import Logging
import OrderedCollections

/// Keeps `spec.replicas` pods of a ReplicaSet's template running — or of a
/// ReplicationController's, the same controller seeing it through
/// ``ReplicationController/asReplicaSet`` (its pods are owned by the
/// ReplicationController, and its status is written back to it).
///
/// Each pass re-reads the ReplicaSet and the pods of its namespace through
/// the client (never a stale cache, so no "expectations" are needed to avoid
/// double creates), claims pods — adopting orphans the selector matches,
/// releasing owned pods it no longer matches — creates or deletes the
/// difference, and writes the status once if it changed.
struct ReplicaSetReconciler: Reconciler {
    static let fieldManager = "replicaset-controller"
    /// At most this many pods created or deleted per pass, as Kubernetes' `burstReplicas`.
    static let burstReplicas = 500

    let client: any ClusterClient
    let events: EventRecorder
    let logger: Logger
    /// `ReplicaSet`, or `ReplicationController` for the legacy kind.
    var kind: KindInfo = BuiltinKinds.replicaSet
    /// What pod availability (`minReadySeconds`) is judged by.
    var wallClock: any WallClock = SystemWallClock()

    var options: WriteOptions { WriteOptions(fieldManager: Self.fieldManager) }

    func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard let (replicaSet, stored) = try await fetch(key) else { return .done }
        guard let selector = replicaSet.spec.selector.selector, !selector.selectsEverything else {
            logger.warning("replicaset has an empty or invalid selector; not managing pods", metadata: ["replicaset": "\(key)"])
            return .done
        }
        let candidates = try await client.listAll(Pod.self, namespace: key.namespace).filter(\.isActive)
        var pods = try await Ownership.claim(candidates, owner: replicaSet, selector: selector, client: client, options: options)

        if replicaSet.metadata.deletionTimestamp == nil {
            let diff = pods.count - Int(replicaSet.spec.replicas)
            if diff < 0 {
                try await createPods(min(-diff, Self.burstReplicas), for: replicaSet)
            } else if diff > 0 {
                let doomed = pods.sorted(by: PodDeletionOrder.before).prefix(min(diff, Self.burstReplicas))
                try await deletePods(Array(doomed), of: replicaSet)
                let names = Set(doomed.map(\.metadata.name))
                pods.removeAll { names.contains($0.metadata.name) }
            }
        }

        let time = wallClock.currentDate
        let status = ReplicaSetStatusCalculator.status(of: replicaSet, pods: pods, now: time)
        if status != replicaSet.status {
            // The stored object with the new status: a ReplicationController
            // keeps its own selector, which the ReplicaSet view rewrote.
            var updated = stored
            updated.json["status"] = .object(status.json)
            do {
                _ = try await client.update(
                    kind, namespace: key.namespace, name: key.name, object: updated.jsonValue, options: options, subresource: "status")
            } catch let error as APIError {
                if error.code == 404 { return .done }  // deleted meanwhile: its pods are the garbage collector's
                throw error
            }
        }
        if let wait = ReplicaSetStatusCalculator.nextAvailability(of: replicaSet, pods: pods, now: time) {
            return .requeueAfter(.milliseconds(Int64(wait * 1000) + 50))
        }
        return .done
    }

    /// The controller as a ReplicaSet, and as it is stored; nil when it is gone.
    private func fetch(_ key: ObjectKey) async throws -> (ReplicaSet, Unstructured)? {
        if kind == BuiltinKinds.replicationController {
            guard let controller = try await client.fetch(ReplicationController.self, key) else { return nil }
            return (controller.asReplicaSet, Unstructured(json: controller.json))
        }
        guard let replicaSet = try await client.fetch(ReplicaSet.self, key) else { return nil }
        return (replicaSet, Unstructured(json: replicaSet.json))
    }

    /// Creates pods in growing batches (1, 2, 4…), stopping at the first
    /// failure as Kubernetes' slow start does, so a quota or validation
    /// problem costs one failed request rather than hundreds.
    private func createPods(_ count: Int, for replicaSet: ReplicaSet) async throws {
        var remaining = count
        var batch = 1
        while remaining > 0 {
            let size = min(batch, remaining)
            var firstError: (any Error)?
            await withTaskGroup(of: (any Error)?.self) { group in
                for _ in 0..<size {
                    group.addTask { await createPod(for: replicaSet) }
                }
                for await error in group where firstError == nil { firstError = error }
            }
            if let firstError { throw firstError }
            remaining -= size
            batch *= 2
        }
    }

    private func createPod(for replicaSet: ReplicaSet) async -> (any Error)? {
        let pod = Self.pod(from: replicaSet)
        do {
            let created = try await client.create(Pod.kindInfo, namespace: replicaSet.metadata.namespace, object: pod.jsonValue, options: options)
            let name = created[path: ["metadata", "name"]]?.stringValue ?? ""
            await events.record(replicaSet, reason: "SuccessfulCreate", message: "Created pod: \(name)")
            return nil
        } catch {
            await events.record(replicaSet, type: .warning, reason: "FailedCreate", message: "Error creating: \(error)")
            return error
        }
    }

    /// A pod stamped from the template: its labels, annotations and spec, a
    /// `<replicaset>-<5 random characters>` name, and a controller reference.
    static func pod(from replicaSet: ReplicaSet) -> Pod {
        let template = replicaSet.spec.template
        var pod = Pod(name: "", namespace: replicaSet.metadata.namespace)
        var meta = pod.metadata
        meta.json.removeValue(forKey: "name")
        meta.generateName = replicaSet.metadata.name + "-"
        meta.labels = template.metadata.labels
        meta.annotations = template.metadata.annotations
        meta.ownerReferences = [Ownership.reference(to: replicaSet)]
        pod.metadata = meta
        pod.json["spec"] = template.json["spec"] ?? .object([:])
        return pod
    }

    private func deletePods(_ pods: [Pod], of replicaSet: ReplicaSet) async throws {
        for pod in pods {
            do {
                try await client.deleteIfPresent(Pod.kindInfo, namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid)
                await events.record(replicaSet, reason: "SuccessfulDelete", message: "Deleted pod: \(pod.metadata.name)")
            } catch {
                await events.record(replicaSet, type: .warning, reason: "FailedDelete", message: "Error deleting: \(error)")
                throw error
            }
        }
    }
}
