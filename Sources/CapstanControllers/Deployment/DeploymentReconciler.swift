import CapstanAPI
import CapstanClient
import CapstanCore
import Foundation
import Logging
import OrderedCollections

/// Rolls a Deployment's pod template out through ReplicaSets.
///
/// Each pass re-reads the Deployment and the ReplicaSets of its namespace,
/// claims those its selector matches, and takes one step: a scaling event is
/// spread over the active ReplicaSets; otherwise `Recreate` or
/// `RollingUpdate` moves replicas from old ReplicaSets to the one whose
/// template equals the Deployment's (created as `<deployment>-<hash>` when
/// none does — and an old one is reused when it does, which is how a
/// rollback works). The status is written once at the end if it changed.
struct DeploymentReconciler: Reconciler {
    static let fieldManager = "deployment-controller"

    let client: any ClusterClient
    let events: EventRecorder
    let logger: Logger
    /// What condition times are written from and the progress deadline is judged by.
    var wallClock: any WallClock = SystemWallClock()

    var options: WriteOptions { WriteOptions(fieldManager: Self.fieldManager) }

    /// What one pass works on; updated in place as it writes.
    struct Pass {
        var deployment: Deployment
        var newRS: ReplicaSet?
        var oldRSs: [ReplicaSet]
        /// A Progressing reason to show before the rollout's own (`NewReplicaSetCreated`…).
        var note: (reason: String, message: String)?

        var all: [ReplicaSet] { (newRS.map { [$0] } ?? []) + oldRSs }
        var desired: Int64 { deployment.spec.replicas }
        var fenceposts: (surge: Int64, unavailable: Int64) { RolloutMath.fenceposts(deployment.spec.strategy, replicas: desired) }
    }

    func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard let deployment = try await client.fetch(Deployment.self, key) else { return .done }
        guard let selector = deployment.spec.selector.selector, !selector.selectsEverything else {
            logger.warning("deployment has an empty or invalid selector; not rolling out", metadata: ["deployment": "\(key)"])
            return .done
        }
        let candidates = try await client.listAll(ReplicaSet.self, namespace: key.namespace)
        let owned = try await Ownership.claim(candidates, owner: deployment, selector: selector, client: client, options: options)
        let template = deployment.spec.template
        let matching = owned.filter { PodTemplateHash.equalIgnoringHash($0.spec.template, template) }.sorted(by: Self.olderFirst)
        var pass = Pass(
            deployment: deployment, newRS: matching.first,
            oldRSs: owned.filter { $0.metadata.uid != matching.first?.metadata.uid }.sorted(by: Self.olderFirst))

        if deployment.metadata.deletionTimestamp != nil {
            return try await finish(&pass, progress: false)
        }
        if deployment.spec.paused || isScalingEvent(pass) {
            try await syncNewReplicaSet(&pass, create: false)
            try await scale(&pass)
            if deployment.spec.paused { try await cleanUp(pass) }
            return try await finish(&pass, progress: false)
        }
        if deployment.spec.strategy.type == "Recreate" {
            return try await recreate(&pass)
        }
        return try await rollingUpdate(&pass)
    }

    // MARK: Strategies

    private func rollingUpdate(_ pass: inout Pass) async throws -> ReconcileResult {
        try await syncNewReplicaSet(&pass, create: true)
        guard let newRS = pass.newRS else { return try await finish(&pass, progress: true) }
        let (surge, unavailable) = pass.fenceposts
        // Grow the new ReplicaSet within replicas + maxSurge.
        if newRS.replicas > pass.desired {
            try await scaleReplicaSet(&pass, newRS, to: pass.desired)
            return try await finish(&pass, progress: true)
        }
        let total = pass.all.reduce(0) { $0 + $1.replicas }
        let size = RolloutMath.newReplicaSetSize(desired: pass.desired, surge: surge, newReplicas: newRS.replicas, totalReplicas: total)
        if size != newRS.replicas {
            try await scaleReplicaSet(&pass, newRS, to: size)
            return try await finish(&pass, progress: true)
        }
        // Shrink old ReplicaSets without going below replicas − maxUnavailable available.
        if try await scaleDownOld(&pass, unavailable: unavailable) {
            return try await finish(&pass, progress: true)
        }
        if DeploymentStatusCalculator.isComplete(
            pass.deployment, DeploymentStatusCalculator.status(of: pass.deployment, newRS: pass.newRS, all: pass.all, now: wallClock.currentDate))
        {
            try await cleanUp(pass)
        }
        return try await finish(&pass, progress: true)
    }

    /// Returns whether it scaled anything.
    private func scaleDownOld(_ pass: inout Pass, unavailable: Int64) async throws -> Bool {
        guard let newRS = pass.newRS, pass.oldRSs.contains(where: { $0.replicas > 0 }) else { return false }
        let total = pass.all.reduce(0) { $0 + $1.replicas }
        let allowed = RolloutMath.maxScaleDown(
            desired: pass.desired, unavailable: unavailable, totalReplicas: total, newReplicas: newRS.replicas,
            newAvailable: newRS.status.availableReplicas)
        guard allowed > 0 else { return false }
        // Unhealthy old replicas first: removing them costs no availability.
        var cleaned: Int64 = 0
        for rs in pass.oldRSs where rs.replicas > 0 && cleaned < allowed {
            let unhealthy = rs.replicas - rs.status.availableReplicas
            guard unhealthy > 0 else { continue }
            let count = min(allowed - cleaned, unhealthy)
            try await scaleReplicaSet(&pass, rs, to: rs.replicas - count)
            cleaned += count
        }
        // Then healthy ones, as far as availability allows.
        let minAvailable = pass.desired - unavailable
        let available = pass.all.reduce(0) { $0 + $1.status.availableReplicas }
        var scaledDown: Int64 = 0
        if available > minAvailable {
            let budget = available - minAvailable
            for rs in pass.oldRSs where rs.replicas > 0 && scaledDown < budget {
                let count = min(rs.replicas, budget - scaledDown)
                try await scaleReplicaSet(&pass, rs, to: rs.replicas - count)
                scaledDown += count
            }
        }
        return cleaned + scaledDown > 0
    }

    private func recreate(_ pass: inout Pass) async throws -> ReconcileResult {
        try await syncNewReplicaSet(&pass, create: false)
        let active = pass.oldRSs.filter { $0.replicas > 0 }
        if !active.isEmpty {
            for rs in active { try await scaleReplicaSet(&pass, rs, to: 0) }
            return try await finish(&pass, progress: true)
        }
        // Wait until every old pod is gone, not just scaled away.
        let oldUIDs = Set(pass.oldRSs.compactMap(\.metadata.uid))
        if !oldUIDs.isEmpty {
            let pods = try await client.listAll(Pod.self, namespace: pass.deployment.metadata.namespace)
            let running = pods.contains { pod in
                guard let ref = Ownership.controllerRef(of: pod.metadata), oldUIDs.contains(ref.uid) else { return false }
                return pod.status.phase != "Succeeded" && pod.status.phase != "Failed"
            }
            if running { return try await finish(&pass, progress: true) }
        }
        try await syncNewReplicaSet(&pass, create: true)
        if let newRS = pass.newRS, newRS.replicas != pass.desired {
            try await scaleReplicaSet(&pass, newRS, to: pass.desired)
            return try await finish(&pass, progress: true)
        }
        if DeploymentStatusCalculator.isComplete(
            pass.deployment, DeploymentStatusCalculator.status(of: pass.deployment, newRS: pass.newRS, all: pass.all, now: wallClock.currentDate))
        {
            try await cleanUp(pass)
        }
        return try await finish(&pass, progress: true)
    }

    // MARK: Scaling

    /// A scaling event: an active ReplicaSet was sized for a different `spec.replicas`.
    private func isScalingEvent(_ pass: Pass) -> Bool {
        pass.all.contains { rs in
            guard rs.replicas > 0, let desired = rs.metadata.annotations[DeploymentAnnotations.desiredReplicas].flatMap({ Int64($0) }) else {
                return false
            }
            return desired != pass.desired
        }
    }

    /// Spreads a change of `spec.replicas` over the active ReplicaSets, as Kubernetes' `scale`.
    private func scale(_ pass: inout Pass) async throws {
        let active = pass.all.filter { $0.replicas > 0 }
        if active.count <= 1 {
            guard let target = active.first ?? pass.newRS ?? pass.oldRSs.last else { return }
            try await scaleReplicaSet(&pass, target, to: pass.desired)
            return
        }
        if let newRS = pass.newRS, newRS.replicas == pass.desired, newRS.status.availableReplicas == pass.desired {
            for rs in pass.oldRSs where rs.replicas > 0 { try await scaleReplicaSet(&pass, rs, to: 0) }
            return
        }
        guard pass.deployment.spec.strategy.type != "Recreate" else { return }
        let current = active.reduce(0) { $0 + $1.replicas }
        let allowed = pass.desired > 0 ? pass.desired + pass.fenceposts.surge : 0
        let toAdd = allowed - current
        guard toAdd != 0 else { return }
        // Proportionally to their sizes; the remainder to the largest (newest on ties).
        let ordered = active.sorted { $0.replicas != $1.replicas ? $0.replicas > $1.replicas : Self.olderFirst($1, $0) }
        var sizes = ordered.map { $0.replicas + $0.replicas * toAdd / current }
        sizes[0] += toAdd - (sizes.reduce(0, +) - current)
        for (rs, size) in zip(ordered, sizes) { try await scaleReplicaSet(&pass, rs, to: max(0, size)) }
    }

    /// Sets a ReplicaSet's size and its replica annotations, with a `ScalingReplicaSet` event.
    private func scaleReplicaSet(_ pass: inout Pass, _ replicaSet: ReplicaSet, to size: Int64) async throws {
        let desired = String(pass.desired)
        let maxReplicas = String(pass.desired + pass.fenceposts.surge)
        var updated = replicaSet
        var annotations = updated.metadata.annotations
        annotations[DeploymentAnnotations.desiredReplicas] = desired
        annotations[DeploymentAnnotations.maxReplicas] = maxReplicas
        var meta = updated.metadata
        meta.annotations = annotations
        updated.metadata = meta
        updated.spec.replicas = size
        guard updated != replicaSet else { return }
        // A merge patch of just these fields: the ReplicaSet controller writes
        // its status all the time, and a full update would keep conflicting with it.
        let patch: JSONValue = [
            "metadata": [
                "annotations": [DeploymentAnnotations.desiredReplicas: .string(desired), DeploymentAnnotations.maxReplicas: .string(maxReplicas)]
            ],
            "spec": ["replicas": .int(size)],
        ]
        let value = try await client.patch(
            ReplicaSet.kindInfo, namespace: replicaSet.metadata.namespace, name: replicaSet.metadata.name, patch: .merge(patch), options: options)
        guard let written = ReplicaSet(jsonValue: value) else { throw APIError.internalError("patched replicaset is not an object") }
        if size != replicaSet.replicas {
            let direction = size > replicaSet.replicas ? "up" : "down"
            await events.record(
                pass.deployment, reason: "ScalingReplicaSet",
                message: "Scaled \(direction) replica set \(replicaSet.metadata.name) from \(replicaSet.replicas) to \(size)")
        }
        if pass.newRS?.metadata.uid == written.metadata.uid {
            pass.newRS = written
        } else if let index = pass.oldRSs.firstIndex(where: { $0.metadata.uid == written.metadata.uid }) {
            pass.oldRSs[index] = written
        }
    }

    // MARK: The new ReplicaSet

    /// Brings the new ReplicaSet's revision up to date (and the Deployment's
    /// revision annotation with it), creating the ReplicaSet when `create` and there is none.
    private func syncNewReplicaSet(_ pass: inout Pass, create: Bool) async throws {
        let maxOld = pass.oldRSs.map(\.revision).max() ?? 0
        let revision = maxOld + 1
        if var newRS = pass.newRS {
            var updated = newRS
            var meta = updated.metadata
            var annotations = meta.annotations
            copyAnnotations(from: pass.deployment, into: &annotations)
            if newRS.revision < revision {
                if newRS.revision > 0 {
                    let history = [annotations[DeploymentAnnotations.revisionHistory], String(newRS.revision)].compactMap { $0 }.filter {
                        !$0.isEmpty
                    }
                    annotations[DeploymentAnnotations.revisionHistory] = history.joined(separator: ",")
                }
                annotations[DeploymentAnnotations.revision] = String(revision)
            }
            meta.annotations = annotations
            updated.metadata = meta
            if updated.spec.minReadySeconds != pass.deployment.spec.minReadySeconds {
                updated.spec.minReadySeconds = pass.deployment.spec.minReadySeconds
            }
            if updated != newRS {
                newRS = try await write(updated)
                pass.newRS = newRS
            }
            if DeploymentStatusCalculator.condition(pass.deployment.status, DeploymentStatusCalculator.progressing) == nil {
                pass.note = ("FoundNewReplicaSet", "Found new replica set \"\(newRS.metadata.name)\"")
            }
            try await setDeploymentRevision(&pass, String(newRS.revision))
            return
        }
        guard create else { return }
        let created = try await createNewReplicaSet(&pass, revision: revision)
        pass.newRS = created
        pass.note = ("NewReplicaSetCreated", "Created new replica set \"\(created.metadata.name)\"")
        try await setDeploymentRevision(&pass, String(revision))
    }

    private func createNewReplicaSet(_ pass: inout Pass, revision: Int64) async throws -> ReplicaSet {
        let deployment = pass.deployment
        let collisionCount = deployment.status.json["collisionCount"]?.intValue
        let hash = PodTemplateHash.of(deployment.spec.template, collisionCount: collisionCount)
        var template = deployment.spec.template
        var templateMeta = template.metadata
        templateMeta.labels[PodTemplateHash.label] = hash
        template.metadata = templateMeta

        var replicaSet = ReplicaSet(name: "\(deployment.metadata.name)-\(hash)", namespace: deployment.metadata.namespace)
        var meta = replicaSet.metadata
        meta.labels = templateMeta.labels
        var annotations: [String: String] = [:]
        copyAnnotations(from: deployment, into: &annotations)
        annotations[DeploymentAnnotations.revision] = String(revision)
        annotations[DeploymentAnnotations.desiredReplicas] = String(pass.desired)
        annotations[DeploymentAnnotations.maxReplicas] = String(pass.desired + pass.fenceposts.surge)
        meta.annotations = annotations
        meta.ownerReferences = [Ownership.reference(to: deployment)]
        replicaSet.metadata = meta
        var selector = deployment.spec.selector
        selector.matchLabels[PodTemplateHash.label] = hash
        let size: Int64
        if deployment.spec.strategy.type == "Recreate" {
            size = pass.desired
        } else {
            let total = pass.oldRSs.reduce(0) { $0 + $1.replicas }
            size = RolloutMath.newReplicaSetSize(desired: pass.desired, surge: pass.fenceposts.surge, newReplicas: 0, totalReplicas: total)
        }
        var spec = ReplicaSetSpec()
        spec.replicas = size
        spec.minReadySeconds = deployment.spec.minReadySeconds
        spec.selector = selector
        spec.template = template
        replicaSet.spec = spec

        do {
            let value = try await client.create(
                ReplicaSet.kindInfo, namespace: deployment.metadata.namespace, object: replicaSet.jsonValue, options: options)
            guard let created = ReplicaSet(jsonValue: value) else { throw APIError.internalError("created replicaset is not an object") }
            if size > 0 {
                await events.record(
                    deployment, reason: "ScalingReplicaSet", message: "Scaled up replica set \(created.metadata.name) from 0 to \(size)")
            }
            return created
        } catch let error as APIError {
            guard error.reason == "AlreadyExists" else { throw error }
            // The name is taken. Ours with the same template: a pass that
            // crashed after creating it. Anything else: a hash collision —
            // count it so the next pass hashes differently.
            let key = ObjectKey(namespace: deployment.metadata.namespace, name: replicaSet.metadata.name)
            if let existing = try await client.fetch(ReplicaSet.self, key),
                Ownership.controllerRef(of: existing.metadata)?.uid == deployment.metadata.uid,
                PodTemplateHash.equalIgnoringHash(existing.spec.template, deployment.spec.template)
            {
                return existing
            }
            var updated = pass.deployment
            var status = updated.status
            status.json["collisionCount"] = .int((collisionCount ?? 0) + 1)
            updated.status = status
            _ = try await client.update(
                Deployment.kindInfo, namespace: deployment.metadata.namespace, name: deployment.metadata.name, object: updated.jsonValue,
                options: options, subresource: "status")
            throw APIError.conflict(ReplicaSet.kindInfo.resource, replicaSet.metadata.name, group: "apps")
        }
    }

    private func copyAnnotations(from deployment: Deployment, into annotations: inout [String: String]) {
        for (key, value) in deployment.metadata.annotations where !DeploymentAnnotations.notCopied.contains(key) {
            annotations[key] = value
        }
    }

    /// `deployment.kubernetes.io/revision` on the Deployment, which `kubectl rollout history` reads.
    private func setDeploymentRevision(_ pass: inout Pass, _ revision: String) async throws {
        guard pass.deployment.metadata.annotations[DeploymentAnnotations.revision] != revision else { return }
        var updated = pass.deployment
        var meta = updated.metadata
        meta.annotations[DeploymentAnnotations.revision] = revision
        updated.metadata = meta
        let value = try await client.update(
            Deployment.kindInfo, namespace: updated.metadata.namespace, name: updated.metadata.name, object: updated.jsonValue, options: options)
        if let written = Deployment(jsonValue: value) { pass.deployment = written }
    }

    // MARK: History and status

    /// Deletes the oldest scaled-down ReplicaSets beyond `revisionHistoryLimit`.
    private func cleanUp(_ pass: Pass) async throws {
        let limit = Int(max(0, pass.deployment.spec.revisionHistoryLimit))
        let cleanable = pass.oldRSs.filter { rs in
            rs.replicas == 0 && rs.status.replicas == 0 && rs.metadata.deletionTimestamp == nil
                && (rs.metadata.generation ?? 0) <= (rs.status.observedGeneration ?? 0)
        }.sorted { $0.revision != $1.revision ? $0.revision < $1.revision : Self.olderFirst($0, $1) }
        guard cleanable.count > limit else { return }
        for rs in cleanable.prefix(cleanable.count - limit) {
            logger.debug("deleting old replicaset beyond the revision history limit", metadata: ["replicaset": "\(rs.metadata.name)"])
            try await client.deleteIfPresent(ReplicaSet.kindInfo, namespace: rs.metadata.namespace, name: rs.metadata.name, uid: rs.metadata.uid)
        }
    }

    /// Writes the status once if it changed; asks to be called again at the progress deadline.
    private func finish(_ pass: inout Pass, progress: Bool) async throws -> ReconcileResult {
        let time = wallClock.currentDate
        let deployment = pass.deployment
        var status = DeploymentStatusCalculator.status(of: deployment, newRS: pass.newRS, all: pass.all, now: time)
        if let note = pass.note {
            var fresh = Condition(
                type: DeploymentStatusCalculator.progressing, status: true, reason: note.reason, message: note.message, time: Timestamps.format(time))
            fresh.json["lastUpdateTime"] = .string(Timestamps.format(time))
            DeploymentStatusCalculator.replace(&status, fresh)
        }
        if progress {
            DeploymentStatusCalculator.updateProgress(&status, deployment: deployment, newRS: pass.newRS, now: time)
        } else {
            DeploymentStatusCalculator.updatePause(&status, deployment: deployment, now: time)
        }
        if status != deployment.status {
            var updated = deployment
            updated.status = status
            let value = try await client.update(
                Deployment.kindInfo, namespace: deployment.metadata.namespace, name: deployment.metadata.name, object: updated.jsonValue,
                options: options, subresource: "status")
            if let written = Deployment(jsonValue: value) { pass.deployment = written }
        }
        if progress, let wait = DeploymentStatusCalculator.timeUntilDeadline(status, deployment: pass.deployment, now: time) {
            return .requeueAfter(.milliseconds(Int64(wait * 1000) + 500))
        }
        return .done
    }

    private func write(_ replicaSet: ReplicaSet) async throws -> ReplicaSet {
        let value = try await client.update(
            ReplicaSet.kindInfo, namespace: replicaSet.metadata.namespace, name: replicaSet.metadata.name, object: replicaSet.jsonValue,
            options: options)
        guard let written = ReplicaSet(jsonValue: value) else { throw APIError.internalError("updated replicaset is not an object") }
        return written
    }

    static func olderFirst(_ a: ReplicaSet, _ b: ReplicaSet) -> Bool {
        let aTime = a.metadata.creationTimestamp ?? ""
        let bTime = b.metadata.creationTimestamp ?? ""
        return aTime != bTime ? aTime < bTime : a.metadata.name < b.metadata.name
    }
}
