import CapstanCore
import OrderedCollections
import Testing

@testable import CapstanAPIServer

private func node(labels: [String: String] = [:], taints: JSONValue? = nil, unschedulable: Bool? = nil) -> JSONValue {
    var object: JSONValue = ["apiVersion": "v1", "kind": "Node", "metadata": ["name": "n1"]]
    object[path: ["metadata", "labels"]] = .object(
        JSONObject(uniqueKeysWithValues: labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
    if let taints { object[path: ["spec", "taints"]] = taints }
    if let unschedulable { object[path: ["spec", "unschedulable"]] = .bool(unschedulable) }
    return object
}

@Suite struct NodeRestrictionTests {
    @Test(arguments: [
        ("kubernetes.io/hostname", false), ("kubernetes.io/os", false), ("topology.kubernetes.io/zone", false),
        ("node.kubernetes.io/instance-type", false), ("node.kubernetes.io/anything", false), ("kubelet.kubernetes.io/x", false),
        ("team", false), ("example.com/rack", false),
        ("node-role.kubernetes.io/control-plane", true), ("kubernetes.io/role", true), ("k8s.io/x", true), ("sub.k8s.io/x", true),
        ("node-restriction.kubernetes.io/pci", true), ("a.node-restriction.kubernetes.io/pci", true),
    ])
    func reservedLabelNamespaces(key: String, forbidden: Bool) {
        #expect(NodeRestriction.isForbidden(key) == forbidden)
    }

    @Test func aNodeRegistersWithTaintsButNeverChangesThemAfter() {
        let taints: JSONValue = [["key": "dedicated", "value": "ops", "effect": "NoSchedule"]]
        #expect(NodeRestriction.violation(node: "n1", old: nil, new: node(taints: taints)) == nil)
        #expect(NodeRestriction.violation(node: "n1", old: node(taints: taints), new: node(taints: taints)) == nil)
        #expect(NodeRestriction.violation(node: "n1", old: node(taints: taints), new: node()) == #"node "n1" is not allowed to modify taints"#)
        #expect(NodeRestriction.violation(node: "n1", old: node(), new: node(taints: taints)) == #"node "n1" is not allowed to modify taints"#)
        // No taints and an empty list are the same.
        #expect(NodeRestriction.violation(node: "n1", old: node(), new: node(taints: .array([]))) == nil)
    }

    @Test func aNodeNeverChangesItsSchedulability() {
        #expect(
            NodeRestriction.violation(node: "n1", old: node(unschedulable: true), new: node())
                == #"node "n1" is not allowed to modify spec.unschedulable"#)
        #expect(NodeRestriction.violation(node: "n1", old: node(), new: node(unschedulable: false)) == nil)
    }

    /// A null label value is no label to every reader, so nulling a reserved
    /// label removes it; a different case in the name is a different label.
    @Test func nullValuesAndLookAlikeNamesAreNoWayAround() {
        var nulled = node(labels: ["node-role.kubernetes.io/control-plane": ""])
        nulled[path: ["metadata", "labels", "node-role.kubernetes.io/control-plane"]] = .null
        #expect(NodeRestriction.violation(node: "n1", old: node(labels: ["node-role.kubernetes.io/control-plane": ""]), new: nulled) != nil)
        #expect(NodeRestriction.isForbidden("kubernetes.io/Hostname"))
        #expect(NodeRestriction.isForbidden("topology.kubernetes.io/Zone"))
        #expect(!NodeRestriction.isForbidden("kubernetes.io/hostname"))
    }

    @Test func reservedLabelsCannotBeSetChangedOrRemoved() {
        let role = ["node-role.kubernetes.io/worker": ""]
        #expect(
            NodeRestriction.violation(node: "n1", old: nil, new: node(labels: role))
                == #"node "n1" is not allowed to set labels: node-role.kubernetes.io/worker"#)
        #expect(
            NodeRestriction.violation(node: "n1", old: node(), new: node(labels: role))
                == #"node "n1" is not allowed to modify labels: node-role.kubernetes.io/worker"#)
        // Given by an admin, it stays: the node may not remove it either, but may leave it as it is.
        #expect(NodeRestriction.violation(node: "n1", old: node(labels: role), new: node()) != nil)
        #expect(NodeRestriction.violation(node: "n1", old: node(labels: role), new: node(labels: role.merging(["team": "a"]) { a, _ in a })) == nil)
        #expect(NodeRestriction.violation(node: "n1", old: node(), new: node(labels: ["kubernetes.io/hostname": "n1", "team": "a"])) == nil)
    }
}
