import CapstanCore
import Foundation

/// Whether and when a pod must leave a node because of its `NoExecute`
/// taints, as Kubernetes' taint eviction controller decides.
enum TaintEviction {
    enum Decision: Equatable {
        /// The node has no `NoExecute` taint.
        case stay
        /// Some `NoExecute` taint is not tolerated: evict now.
        case evictNow
        /// Every taint is tolerated, the shortest matching toleration for this many seconds.
        case evictAfter(seconds: Int64)
        /// Every taint is tolerated without a time limit.
        case tolerateForever
    }

    /// Each `NoExecute` taint needs a toleration; the pod may stay as long as
    /// the shortest `tolerationSeconds` among the first toleration matching
    /// each taint (zero or less: not at all; none set: forever).
    static func decide(tolerations: [Toleration], taints: [Taint]) -> Decision {
        let noExecute = taints.filter { $0.effect == "NoExecute" }
        guard !noExecute.isEmpty else { return .stay }
        var shortest: Int64?
        for taint in noExecute {
            guard let match = tolerations.first(where: { tolerates($0, taint) }) else { return .evictNow }
            if let seconds = match.tolerationSeconds {
                if seconds <= 0 { return .evictAfter(seconds: 0) }
                shortest = min(shortest ?? seconds, seconds)
            }
        }
        return shortest.map { .evictAfter(seconds: $0) } ?? .tolerateForever
    }

    /// Kubernetes' `ToleratesTaint`: an empty effect matches every effect, an
    /// empty key with `Exists` every key; `Equal` (the default) compares values.
    static func tolerates(_ toleration: Toleration, _ taint: Taint) -> Bool {
        if let effect = toleration.effect, !effect.isEmpty, effect != taint.effect { return false }
        let key = toleration.key ?? ""
        if !key.isEmpty, key != taint.key { return false }
        switch toleration.operator {
        case "Exists": return true
        case "Equal": return !key.isEmpty && (toleration.value ?? "") == (taint.value ?? "")
        default: return false
        }
    }
}
