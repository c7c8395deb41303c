import CapstanCore
import Foundation
import OrderedCollections

/// When the controller last saw a node alive, on the controller's own clock.
///
/// As in Kubernetes, staleness is measured from the moment the controller
/// *observed* a change — a renewed Lease or a new Ready `lastHeartbeatTime` —
/// not from the timestamp the node wrote, so a node whose clock is off is
/// judged fairly, and a restarted controller gives every node a full grace
/// period before it calls it unreachable.
struct NodeProbe: Sendable, Equatable {
    /// The last time a sign of life was observed.
    var probeTime: Date
    /// The Ready condition's `lastHeartbeatTime` last seen.
    var heartbeat: String?
    /// The Lease's `renewTime` last seen.
    var leaseRenewTime: String?

    /// The probe after looking at `node` and its `lease` at `now`. A node seen
    /// for the first time counts as alive now — or, if it never posted a Ready
    /// condition and has no Lease, since its creation.
    static func observe(_ node: Node, lease: Lease?, previous: NodeProbe?, now: Date) -> NodeProbe {
        let heartbeat = node.status.conditions.first { $0.type == "Ready" }?.lastHeartbeatTime
        var probe: NodeProbe
        if let previous {
            probe = previous
            if heartbeat != nil, heartbeat != previous.heartbeat {
                probe.heartbeat = heartbeat
                probe.probeTime = now
            }
        } else {
            let never = heartbeat == nil && node.status.conditions.allSatisfy { $0.type != "Ready" }
            let created = Timestamps.parse(node.metadata.creationTimestamp).map { min($0, now) } ?? now
            probe = NodeProbe(probeTime: never ? created : now, heartbeat: heartbeat, leaseRenewTime: nil)
        }
        if let renewed = lease?.spec.renewTime, renewed != probe.leaseRenewTime {
            probe.leaseRenewTime = renewed
            probe.probeTime = now
        }
        return probe
    }
}

/// The node conditions and taints the node lifecycle controller maintains.
enum NodeHealth {
    static let unknownReason = "NodeStatusUnknown"
    static let unknownMessage = "Kubelet stopped posting node status."
    static let neverUpdatedReason = "NodeStatusNeverUpdated"
    static let neverUpdatedMessage = "Kubelet never posted node status."
    /// The conditions a node agent posts and the controller turns Unknown when it goes silent.
    static let conditionTypes = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"]

    /// The node's Ready status: `True`, `False`, or `Unknown` (also when it has none).
    static func readiness(of node: Node) -> String {
        node.status.conditions.first { $0.type == "Ready" }?.status ?? "Unknown"
    }

    /// The conditions of a node whose agent stopped reporting: each of
    /// ``conditionTypes`` `Unknown` (`lastHeartbeatTime` kept, so a later
    /// heartbeat is still recognised), a missing one added as never updated.
    /// Nil when they already are.
    static func staleConditions(of node: Node, now: String) -> [Condition]? {
        var conditions = node.status.conditions
        var changed = false
        for type in conditionTypes {
            if let index = conditions.firstIndex(where: { $0.type == type }) {
                guard conditions[index].status != "Unknown" else { continue }
                conditions[index].status = "Unknown"
                conditions[index].reason = unknownReason
                conditions[index].message = unknownMessage
                conditions[index].lastTransitionTime = now
            } else {
                var condition = Condition(json: ["type": .string(type), "status": "Unknown"])
                condition.reason = neverUpdatedReason
                condition.message = neverUpdatedMessage
                condition.lastHeartbeatTime = node.metadata.creationTimestamp
                condition.lastTransitionTime = now
                conditions.append(condition)
            }
            changed = true
        }
        return changed ? conditions : nil
    }
}

/// The taints that mirror node conditions, as Kubernetes' node lifecycle
/// controller keeps them: `NoSchedule` ones keep new pods away, `NoExecute`
/// ones make the taint eviction evict running pods.
enum NodeTaints {
    static let notReady = "node.kubernetes.io/not-ready"
    static let unreachable = "node.kubernetes.io/unreachable"

    /// Condition type and status → `NoSchedule` taint key.
    static let noScheduleByCondition: [String: [String: String]] = [
        "Ready": ["False": notReady, "Unknown": unreachable],
        "MemoryPressure": ["True": "node.kubernetes.io/memory-pressure"],
        "DiskPressure": ["True": "node.kubernetes.io/disk-pressure"],
        "PIDPressure": ["True": "node.kubernetes.io/pid-pressure"],
        "NetworkUnavailable": ["True": "node.kubernetes.io/network-unavailable"],
    ]
    static let unschedulable = "node.kubernetes.io/unschedulable"

    /// Every taint key and effect this controller adds and removes; other taints are never touched.
    static let owned: Set<TaintID> = Set(
        noScheduleByCondition.values.flatMap(\.values).map { TaintID(key: $0, effect: "NoSchedule") }
            + [
                TaintID(key: unschedulable, effect: "NoSchedule"), TaintID(key: notReady, effect: "NoExecute"),
                TaintID(key: unreachable, effect: "NoExecute"),
            ])

    struct TaintID: Hashable, Sendable {
        var key: String
        var effect: String
    }

    /// The controller's taints `node` should carry now.
    static func desired(for node: Node) -> Set<TaintID> {
        var taints: Set<TaintID> = []
        for condition in node.status.conditions {
            if let key = noScheduleByCondition[condition.type]?[condition.status] { taints.insert(TaintID(key: key, effect: "NoSchedule")) }
        }
        if node.spec.unschedulable { taints.insert(TaintID(key: unschedulable, effect: "NoSchedule")) }
        // A node that never posted a Ready condition gets none until the controller marks it Unknown.
        if node.status.conditions.contains(where: { $0.type == "Ready" }) {
            switch NodeHealth.readiness(of: node) {
            case "False": taints.insert(TaintID(key: notReady, effect: "NoExecute"))
            case "Unknown": taints.insert(TaintID(key: unreachable, effect: "NoExecute"))
            default: break
            }
        }
        return taints
    }

    /// `node`'s taints with the controller's brought in line with ``desired(for:)``:
    /// unwanted ones removed, missing ones added stamped `timeAdded` (as
    /// Kubernetes stamps them), the rest kept as they are. Nil when nothing changes.
    static func reconciled(_ node: Node, now: String) -> [Taint]? {
        let wanted = desired(for: node)
        let existing = node.spec.taints
        var result = existing.filter { taint in
            let id = TaintID(key: taint.key, effect: taint.effect)
            return !owned.contains(id) || wanted.contains(id)
        }
        let present = Set(result.map { TaintID(key: $0.key, effect: $0.effect) })
        for id in wanted.subtracting(present).sorted(by: { ($0.key, $0.effect) < ($1.key, $1.effect) }) {
            var taint = Taint(key: id.key, effect: id.effect)
            taint.timeAdded = now
            result.append(taint)
        }
        return result.map(\.json) == existing.map(\.json) ? nil : result
    }
}
