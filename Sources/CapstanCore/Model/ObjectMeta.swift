public import OrderedCollections

/// `metadata`: what every object has — identity, labels, ownership, lifecycle.
public struct ObjectMeta: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var name: String {
        get { self[string: "name"] ?? "" }
        set { self[string: "name"] = newValue }
    }
    public var generateName: String? {
        get { self[string: "generateName"] }
        set { self[string: "generateName"] = newValue }
    }
    public var namespace: String? {
        get { self[string: "namespace"] }
        set { self[string: "namespace"] = newValue }
    }
    public var uid: String? {
        get { self[string: "uid"] }
        set { self[string: "uid"] = newValue }
    }
    public var resourceVersion: String? {
        get { self[string: "resourceVersion"] }
        set { self[string: "resourceVersion"] = newValue }
    }
    public var generation: Int64? {
        get { self[int: "generation"] }
        set { self[int: "generation"] = newValue }
    }
    public var creationTimestamp: String? {
        get { self[string: "creationTimestamp"] }
        set { self[string: "creationTimestamp"] = newValue }
    }
    public var deletionTimestamp: String? {
        get { self[string: "deletionTimestamp"] }
        set { self[string: "deletionTimestamp"] = newValue }
    }
    public var deletionGracePeriodSeconds: Int64? {
        get { self[int: "deletionGracePeriodSeconds"] }
        set { self[int: "deletionGracePeriodSeconds"] = newValue }
    }
    public var labels: [String: String] {
        get { self[stringMap: "labels"] }
        set { self[stringMap: "labels"] = newValue }
    }
    public var annotations: [String: String] {
        get { self[stringMap: "annotations"] }
        set { self[stringMap: "annotations"] = newValue }
    }
    public var finalizers: [String] {
        get { self[strings: "finalizers"] }
        set { self[strings: "finalizers"] = newValue }
    }
    public var ownerReferences: [OwnerReference] {
        get { self[views: "ownerReferences"] }
        set { self[views: "ownerReferences"] = newValue }
    }
    /// Field ownership for server-side apply, kept as JSON: only the apply machinery reads it.
    public var managedFields: [JSONValue] {
        get { json["managedFields"]?.arrayValue ?? [] }
        set { set("managedFields", newValue.isEmpty ? nil : .array(newValue)) }
    }
}

/// Points from a dependent to the object that owns it (a Pod to its ReplicaSet).
public struct OwnerReference: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public init(apiVersion: String, kind: String, name: String, uid: String, controller: Bool = true) {
        self.json = [
            "apiVersion": .string(apiVersion), "kind": .string(kind), "name": .string(name), "uid": .string(uid),
            "controller": .bool(controller), "blockOwnerDeletion": .bool(true),
        ]
    }

    public var apiVersion: String {
        get { self[string: "apiVersion"] ?? "" }
        set { self[string: "apiVersion"] = newValue }
    }
    public var kind: String {
        get { self[string: "kind"] ?? "" }
        set { self[string: "kind"] = newValue }
    }
    public var name: String {
        get { self[string: "name"] ?? "" }
        set { self[string: "name"] = newValue }
    }
    public var uid: String {
        get { self[string: "uid"] ?? "" }
        set { self[string: "uid"] = newValue }
    }
    public var controller: Bool {
        get { self[bool: "controller"] ?? false }
        set { self[bool: "controller"] = newValue }
    }
    public var blockOwnerDeletion: Bool? {
        get { self[bool: "blockOwnerDeletion"] }
        set { self[bool: "blockOwnerDeletion"] = newValue }
    }
}

/// A label selector as written in specs (`matchLabels` and `matchExpressions`).
public struct LabelSelectorSpec: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var matchLabels: [String: String] {
        get { self[stringMap: "matchLabels"] }
        set { self[stringMap: "matchLabels"] = newValue }
    }
    public var matchExpressions: [LabelSelectorRequirementSpec] {
        get { self[views: "matchExpressions"] }
        set { self[views: "matchExpressions"] = newValue }
    }

    /// The selector it describes; `nil` when an expression uses an unknown operator
    /// (validation reports that).
    public var selector: LabelSelector? {
        var requirements = matchLabels.map { LabelSelector.Requirement(key: $0.key, operator: .equals, values: [$0.value]) }
        for expression in matchExpressions {
            let op: LabelSelector.Operator
            switch expression.operator {
            case "In": op = .in
            case "NotIn": op = .notIn
            case "Exists": op = .exists
            case "DoesNotExist": op = .doesNotExist
            default: return nil
            }
            requirements.append(LabelSelector.Requirement(key: expression.key, operator: op, values: expression.values))
        }
        return LabelSelector(requirements: requirements)
    }
}

public struct LabelSelectorRequirementSpec: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var key: String {
        get { self[string: "key"] ?? "" }
        set { self[string: "key"] = newValue }
    }
    public var `operator`: String {
        get { self[string: "operator"] ?? "" }
        set { self[string: "operator"] = newValue }
    }
    public var values: [String] {
        get { self[strings: "values"] }
        set { self[strings: "values"] = newValue }
    }
}
