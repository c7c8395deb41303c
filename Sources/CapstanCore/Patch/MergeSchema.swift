/// How the built-in kinds' lists merge — the `x-kubernetes-list-type` and
/// `patchMergeKey` markers of the Kubernetes API types, as one table.
///
/// Server-side apply and strategic merge patch both need to know, for each
/// list, whether it is atomic (replaced whole), a set of scalars, or a map
/// keyed by some fields of its elements (containers by `name`).
public enum MergeSchema {
    public enum ListType: Hashable, Sendable {
        /// Replaced as a whole; owned as one field.
        case atomic
        /// A set of scalars (finalizers).
        case set
        /// Elements identified by these fields (server-side apply's keys).
        case map(keys: [String])
    }

    struct ListRule {
        var type: ListType
        /// The single key strategic merge patch merges on, if it merges at all.
        var patchMergeKey: String?
    }

    /// Rules relative to a pod spec, which sits at different places in different kinds.
    private static let podSpecRules: [String: ListRule] = [
        "containers": ListRule(type: .map(keys: ["name"]), patchMergeKey: "name"),
        "initContainers": ListRule(type: .map(keys: ["name"]), patchMergeKey: "name"),
        "ephemeralContainers": ListRule(type: .map(keys: ["name"]), patchMergeKey: "name"),
        "containers.ports": ListRule(type: .map(keys: ["containerPort", "protocol"]), patchMergeKey: "containerPort"),
        "initContainers.ports": ListRule(type: .map(keys: ["containerPort", "protocol"]), patchMergeKey: "containerPort"),
        "containers.env": ListRule(type: .map(keys: ["name"]), patchMergeKey: "name"),
        "initContainers.env": ListRule(type: .map(keys: ["name"]), patchMergeKey: "name"),
        "containers.volumeMounts": ListRule(type: .map(keys: ["mountPath"]), patchMergeKey: "mountPath"),
        "initContainers.volumeMounts": ListRule(type: .map(keys: ["mountPath"]), patchMergeKey: "mountPath"),
        "containers.volumeDevices": ListRule(type: .map(keys: ["devicePath"]), patchMergeKey: "devicePath"),
        "volumes": ListRule(type: .map(keys: ["name"]), patchMergeKey: "name"),
        "imagePullSecrets": ListRule(type: .map(keys: ["name"]), patchMergeKey: "name"),
        "hostAliases": ListRule(type: .map(keys: ["ip"]), patchMergeKey: "ip"),
        "topologySpreadConstraints": ListRule(type: .map(keys: ["topologyKey", "whenUnsatisfiable"]), patchMergeKey: "topologyKey"),
        "schedulingGates": ListRule(type: .map(keys: ["name"]), patchMergeKey: "name"),
        "resourceClaims": ListRule(type: .map(keys: ["name"]), patchMergeKey: "name"),
    ]

    /// Rules relative to the object root, for every kind.
    private static let objectRules: [String: ListRule] = [
        "metadata.finalizers": ListRule(type: .set, patchMergeKey: ""),
        "metadata.ownerReferences": ListRule(type: .map(keys: ["uid"]), patchMergeKey: "uid"),
        "status.conditions": ListRule(type: .map(keys: ["type"]), patchMergeKey: "type"),
    ]

    /// Rules for particular kinds, relative to the object root.
    private static let kindRules: [String: [String: ListRule]] = [
        "Service": [
            "spec.ports": ListRule(type: .map(keys: ["port", "protocol"]), patchMergeKey: "port")
        ],
        "Node": [
            // No patch strategy in Kubernetes: a strategic merge patch replaces the whole list (`kubectl taint … key-`).
            "spec.taints": ListRule(type: .atomic, patchMergeKey: nil),
            "status.addresses": ListRule(type: .map(keys: ["type"]), patchMergeKey: "type"),
        ],
        "Pod": [
            "status.containerStatuses": ListRule(type: .atomic, patchMergeKey: nil),
            "status.podIPs": ListRule(type: .map(keys: ["ip"]), patchMergeKey: "ip"),
        ],
    ]

    /// Where each kind keeps its pod spec.
    private static let podSpecRoots: [String: String] = [
        "Pod": "spec",
        "Deployment": "spec.template.spec",
        "ReplicaSet": "spec.template.spec",
        "ReplicationController": "spec.template.spec",
        "PodTemplate": "template.spec",
        "DaemonSet": "spec.template.spec",
        "StatefulSet": "spec.template.spec",
        "Job": "spec.template.spec",
        "CronJob": "spec.jobTemplate.spec.template.spec",
    ]

    /// Fields that hold a label selector, which Kubernetes treats as one atomic value.
    private static let atomicObjects: [String: Set<String>] = [
        "Deployment": ["spec.selector"],
        "ReplicaSet": ["spec.selector"],
        "DaemonSet": ["spec.selector"],
        "StatefulSet": ["spec.selector"],
        "Job": ["spec.selector"],
    ]

    /// A custom resource's list and map rules, read from its schema's
    /// `x-kubernetes-list-type`, `x-kubernetes-list-map-keys` and
    /// `x-kubernetes-map-type` markers.
    package protocol CustomRules: Sendable {
        /// The list type the schema declares at `path`; nil where it declares none.
        func listType(atMergePath path: String) -> ListType?
        func isAtomicObject(atMergePath path: String) -> Bool
    }

    /// The rules of the custom resource being merged. Set around one apply
    /// or field-set computation (`MergeSchema.$customRules.withValue(schema) { … }`);
    /// while set, they replace the built-in tables for everything outside
    /// `metadata`, and an undeclared list is atomic, as Kubernetes treats it.
    @TaskLocal package static var customRules: (any CustomRules)? = nil

    static func rule(kind: String, path: String) -> ListRule? {
        if let customRules, !path.hasPrefix("metadata.") {
            // Custom resources are not strategic-merge-patchable, so no patch merge key.
            return customRules.listType(atMergePath: path).map { ListRule(type: $0, patchMergeKey: nil) }
        }
        if let rule = objectRules[path] ?? kindRules[kind]?[path] { return rule }
        if let root = podSpecRoots[kind], path.hasPrefix(root + ".") {
            return podSpecRules[String(path.dropFirst(root.count + 1))]
        }
        return nil
    }

    /// The list type of the list at `path` (field names joined by dots, list indices left out).
    public static func listType(kind: String, path: String) -> ListType {
        rule(kind: kind, path: path)?.type ?? .atomic
    }

    /// The key strategic merge patch merges the list at `path` on; `nil` when the list is replaced.
    public static func patchMergeKey(kind: String, path: String) -> String? {
        rule(kind: kind, path: path)?.patchMergeKey
    }

    /// Whether the object at `path` is owned and replaced as one value.
    public static func isAtomicObject(kind: String, path: String) -> Bool {
        if let customRules, !path.hasPrefix("metadata") { return customRules.isAtomicObject(atMergePath: path) }
        return atomicObjects[kind]?.contains(path) ?? false
    }
}
