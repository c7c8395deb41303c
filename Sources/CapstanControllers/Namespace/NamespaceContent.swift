import CapstanCore
import OrderedCollections

/// What one pass found in a terminating namespace, and the status conditions
/// Kubernetes' namespace controller reports for it (`kubectl describe ns`).
struct NamespaceContent {
    /// `<resource>.<group>` → objects still there.
    var remaining: [String: Int] = [:]
    /// Finalizer → objects it still holds.
    var finalizers: [String: Int] = [:]
    /// `<resource>.<group>: <error>` for each kind that could not be listed or deleted.
    var failures: [String] = []

    var isEmpty: Bool { remaining.isEmpty }

    /// `pods.` / `deployments.apps`, as the conditions name resources.
    static func resourceName(_ kind: KindInfo) -> String { "\(kind.resource).\(kind.group)" }

    mutating func count(_ items: [JSONValue], _ kind: KindInfo) {
        guard !items.isEmpty else { return }
        remaining[Self.resourceName(kind), default: 0] += items.count
        for item in items {
            for finalizer in Unstructured(jsonValue: item)?.metadata.finalizers ?? [] { finalizers[finalizer, default: 0] += 1 }
        }
    }

    /// The condition types maintained, with the reason and message each has when all is well.
    static let okConditions: [(type: String, reason: String, message: String)] = [
        ("NamespaceDeletionDiscoveryFailure", "ResourcesDiscovered", "All resources successfully discovered"),
        ("NamespaceDeletionGroupVersionParsingFailure", "ParsedGroupVersions", "All legacy kube types successfully parsed"),
        ("NamespaceDeletionContentFailure", "ContentDeleted", "All content successfully deleted, may be waiting on finalization"),
        ("NamespaceContentRemaining", "ContentRemoved", "All content successfully removed"),
        ("NamespaceFinalizersRemaining", "ContentRemoved", "All content successfully removed"),
    ]

    /// The problems as (type, reason, message); types not listed are fine.
    private var problems: [String: (reason: String, message: String)] {
        var problems: [String: (String, String)] = [:]
        if !failures.isEmpty {
            problems["NamespaceDeletionContentFailure"] = (
                "ContentDeletionFailed",
                "Failed to delete all resource types, \(failures.count) remaining: \(failures.sorted().joined(separator: ", "))"
            )
        }
        if !remaining.isEmpty {
            let list = remaining.map { "\($0.key) has \($0.value) resource instances" }.sorted().joined(separator: ", ")
            problems["NamespaceContentRemaining"] = ("SomeResourcesRemain", "Some resources are remaining: \(list)")
        }
        if !finalizers.isEmpty {
            let list = finalizers.map { "\($0.key) in \($0.value) resource instances" }.sorted().joined(separator: ", ")
            problems["NamespaceFinalizersRemaining"] = ("SomeFinalizersRemain", "Some content in the namespace has finalizers remaining: \(list)")
        }
        return problems
    }

    /// `existing` with each maintained condition set to what this pass found
    /// (`lastTransitionTime` moves only when the status flips); nil when nothing changed.
    func conditions(replacing existing: [JSONValue], now: String) -> [JSONValue]? {
        var conditions = existing.map { Condition(json: $0.objectValue ?? [:]) }
        var changed = false
        let problems = self.problems
        for ok in Self.okConditions {
            let problem = problems[ok.type]
            let status = problem == nil ? "False" : "True"
            let reason = problem?.reason ?? ok.reason
            let message = problem?.message ?? ok.message
            if let index = conditions.firstIndex(where: { $0.type == ok.type }) {
                let old = conditions[index]
                guard old.status != status || old.reason != reason || old.message != message else { continue }
                if old.status != status { conditions[index].lastTransitionTime = now }
                conditions[index].status = status
                conditions[index].reason = reason
                conditions[index].message = message
            } else {
                var condition = Condition(json: ["type": .string(ok.type), "status": .string(status)])
                condition.reason = reason
                condition.message = message
                condition.lastTransitionTime = now
                conditions.append(condition)
            }
            changed = true
        }
        return changed ? conditions.map(\.jsonValue) : nil
    }
}
