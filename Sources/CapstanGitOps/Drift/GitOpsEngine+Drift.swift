package import CapstanCore
import Foundation
import Logging

extension GitOpsEngine {
    /// Compares these objects (all of them when nil) with the applied commit,
    /// records field-level drift, and — with self-heal on — re-applies git's
    /// version. Returns how many objects were healed.
    @discardableResult
    package func checkDrift(_ identities: Set<ObjectIdentity>? = nil) async -> Int {
        guard let commit = applied.commit, !source.syncing else { return 0 }
        let targets = identities.map { $0.compactMap { applied.desired[$0] } } ?? Array(applied.desired.values)
        let ignore = applied.config.ignoreDifferences
        var healed = 0
        for object in targets.sorted(by: { $0.identity < $1.identity }) {
            let live: JSONValue?
            do {
                live = try await cluster.get(object.identity, apiVersion: object.apiVersion)
            } catch {
                logger.warning("drift check could not read an object", metadata: ["object": "\(object.identity)", "error": "\(error)"])
                continue
            }
            let pointers = ignore.filter { $0.matches(object.identity) }.flatMap(\.jsonPointers)
            var wanted = object.object
            wanted[path: ["metadata", "annotations", DesiredObject.commitAnnotation]] = nil
            let differences = DriftDetector(ignoredPointers: pointers).differences(desired: wanted, live: live)
            guard !differences.isEmpty else {
                applied.drift.objects[object.identity] = nil
                continue
            }
            var found = ObjectDrift(
                identity: object.identity, apiVersion: object.apiVersion, file: object.file, differences: differences,
                detectedAt: applied.drift.objects[object.identity]?.detectedAt ?? now())
            logger.notice(
                "drift detected", metadata: ["object": "\(object.identity)", "fields": "\(differences.map(\.path).joined(separator: ", "))"])
            guard applied.config.selfHeal else {
                applied.drift.objects[object.identity] = found
                continue
            }
            let stamp = live?[path: ["metadata", "annotations", DesiredObject.commitAnnotation]]?.stringValue ?? commit.id
            do {
                _ = try await cluster.apply(object.stamped(commit: stamp), dryRun: false)
                found.healedAt = now()
                applied.drift.heals.append(found)
                if applied.drift.heals.count > 100 { applied.drift.heals.removeFirst(applied.drift.heals.count - 100) }
                applied.drift.objects[object.identity] = nil
                healed += 1
            } catch {
                applied.drift.objects[object.identity] = found
                logger.error("self-heal failed", metadata: ["object": "\(object.identity)", "error": "\(error)"])
            }
        }
        if identities == nil { applied.drift.objectsChecked = applied.desired.count }
        applied.drift.checkedAt = now()
        if healed > 0 {
            var record = SyncRecord(
                sequence: (history.last?.sequence ?? 0) + 1, commit: commit.id, author: "\(commit.authorName) <\(commit.authorEmail)>",
                message: commit.summary, startedAt: now(), trigger: "self-heal", result: .healed)
            record.updated = healed
            record.warnings = applied.drift.heals.suffix(healed).map { heal in
                let who = Set(heal.differences.compactMap(\.changedBy)).sorted().joined(separator: ", ")
                let what = heal.missing ? "recreated (it had been deleted)" : heal.differences.map(\.path).joined(separator: ", ")
                return "\(heal.identity): \(what)\(who.isEmpty ? "" : " — changed by \(who)")"
            }
            await remember(record)
        }
        return healed
    }

    /// The drift report as `GET /drift` serves it.
    package func driftReport() -> DriftReport {
        applied.drift.report(commit: applied.commit?.id, selfHeal: applied.config.selfHeal)
    }

    /// The kinds the applied commit holds: what the drift watch follows.
    package var watchedKinds: [KindInfo] {
        Set(applied.desired.values.map { "\($0.apiVersion) \($0.identity.kind)" }).sorted().compactMap { key in
            let parts = key.split(separator: " ")
            return BuiltinKinds.lookup(apiVersion: String(parts[0]), kind: String(parts[1]))
        }
    }

    /// Whether an identity is one git manages (so its changes are worth a drift check).
    package func manages(_ identity: ObjectIdentity) -> Bool { applied.desired[identity] != nil }

    /// The identities among these that git manages.
    func managed(among identities: Set<ObjectIdentity>) -> Set<ObjectIdentity> { identities.filter { applied.desired[$0] != nil } }
}
