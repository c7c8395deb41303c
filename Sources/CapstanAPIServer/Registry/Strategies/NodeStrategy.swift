import CapstanAPI
import CapstanCore
import OrderedCollections

/// Nodes: a status subresource, and NodeRestriction admission on every
/// create or write a node's credentials make.
struct NodeStrategy: ResourceStrategy {
    var hasStatusSubresource: Bool { true }

    /// NodeRestriction: a node may not give its own Node reserved labels, nor
    /// change its taints or schedulability once registered (``NodeRestriction``).
    func admit(_ write: AdmissionAttributes) throws(APIError) {
        guard write.operation != .delete, let node = write.requestingNode, let new = write.new,
            let reason = NodeRestriction.violation(node: node, old: write.old, new: new)
        else { return }
        throw APIError(
            code: 403, reason: "Forbidden", message: "nodes \"\(write.name)\" is forbidden: \(reason)",
            details: ["kind": "nodes", "name": .string(write.name)])
    }
}
