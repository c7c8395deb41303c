public import OrderedCollections

/// A Namespace: a scope for names, and the unit of cleanup.
public struct Namespace: TypedObject {
    public static let kindInfo = BuiltinKinds.namespace
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    /// `Active` or `Terminating`.
    public var phase: String { json["status"]?["phase"]?.stringValue ?? "Active" }

    /// The `spec.finalizers` entry the API server adds and the namespace
    /// controller removes once the namespace is empty (core/v1 `FinalizerKubernetes`).
    public static let kubernetesFinalizer = "kubernetes"
}

/// A Node: a machine that runs Pods.
public struct Node: TypedObject {
    public static let kindInfo = BuiltinKinds.node
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var spec: NodeSpec {
        get { self[view: "spec"] }
        set { self[view: "spec"] = newValue }
    }
    public var status: NodeStatus {
        get { self[view: "status"] }
        set { self[view: "status"] = newValue }
    }
}

public struct NodeSpec: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var unschedulable: Bool {
        get { self[bool: "unschedulable"] ?? false }
        set { self[bool: "unschedulable"] = newValue }
    }
    public var taints: [Taint] {
        get { self[views: "taints"] }
        set { self[views: "taints"] = newValue }
    }
    public var podCIDR: String? {
        get { self[string: "podCIDR"] }
        set { self[string: "podCIDR"] = newValue }
    }
}

public struct Taint: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public init(key: String, value: String? = nil, effect: String) {
        self.json = ["key": .string(key), "effect": .string(effect)]
        self.value = value
    }

    public var key: String {
        get { self[string: "key"] ?? "" }
        set { self[string: "key"] = newValue }
    }
    public var value: String? {
        get { self[string: "value"] }
        set { self[string: "value"] = newValue }
    }
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    public var effect: String {
        get { self[string: "effect"] ?? "" }
        set { self[string: "effect"] = newValue }
    }
    public var timeAdded: String? {
        get { self[string: "timeAdded"] }
        set { self[string: "timeAdded"] = newValue }
    }
}

public struct NodeStatus: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var capacity: [String: Quantity] {
        get { self[quantities: "capacity"] }
        set { self[quantities: "capacity"] = newValue }
    }
    public var allocatable: [String: Quantity] {
        get { self[quantities: "allocatable"] }
        set { self[quantities: "allocatable"] = newValue }
    }
    public var conditions: [Condition] {
        get { self[views: "conditions"] }
        set { self[views: "conditions"] = newValue }
    }
    public var addresses: [JSONValue] {
        get { json["addresses"]?.arrayValue ?? [] }
        set { set("addresses", newValue.isEmpty ? nil : .array(newValue)) }
    }
    public var nodeInfo: JSONValue? {
        get { json["nodeInfo"] }
        set { set("nodeInfo", newValue) }
    }
    /// Images present on the node, for the scheduler's image-locality score.
    public var images: [JSONValue] {
        get { json["images"]?.arrayValue ?? [] }
        set { set("images", newValue.isEmpty ? nil : .array(newValue)) }
    }
}

/// An Event: something that happened to an object, for people reading `kubectl describe`.
public struct Event: TypedObject {
    public static let kindInfo = BuiltinKinds.event
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var involvedObject: JSONObject {
        get { json["involvedObject"]?.objectValue ?? [:] }
        set { set("involvedObject", .object(newValue)) }
    }
    public var reason: String? {
        get { self[string: "reason"] }
        set { self[string: "reason"] = newValue }
    }
    public var message: String? {
        get { self[string: "message"] }
        set { self[string: "message"] = newValue }
    }
    /// `Normal` or `Warning`.
    public var type: String {
        get { self[string: "type"] ?? "Normal" }
        set { self[string: "type"] = newValue }
    }
    public var count: Int64 {
        get { self[int: "count"] ?? 1 }
        set { self[int: "count"] = newValue }
    }
    public var firstTimestamp: String? {
        get { self[string: "firstTimestamp"] }
        set { self[string: "firstTimestamp"] = newValue }
    }
    public var lastTimestamp: String? {
        get { self[string: "lastTimestamp"] }
        set { self[string: "lastTimestamp"] = newValue }
    }
    public var source: JSONValue? {
        get { json["source"] }
        set { set("source", newValue) }
    }
}

/// A Lease: a heartbeat or a lock (node liveness, leader election).
public struct Lease: TypedObject {
    public static let kindInfo = BuiltinKinds.lease
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var spec: LeaseSpec {
        get { self[view: "spec"] }
        set { self[view: "spec"] = newValue }
    }
}

public struct LeaseSpec: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var holderIdentity: String? {
        get { self[string: "holderIdentity"] }
        set { self[string: "holderIdentity"] = newValue }
    }
    public var leaseDurationSeconds: Int64? {
        get { self[int: "leaseDurationSeconds"] }
        set { self[int: "leaseDurationSeconds"] = newValue }
    }
    /// RFC 3339 with microseconds, as Kubernetes' MicroTime.
    public var renewTime: String? {
        get { self[string: "renewTime"] }
        set { self[string: "renewTime"] = newValue }
    }
    public var acquireTime: String? {
        get { self[string: "acquireTime"] }
        set { self[string: "acquireTime"] = newValue }
    }
    public var leaseTransitions: Int64? {
        get { self[int: "leaseTransitions"] }
        set { self[int: "leaseTransitions"] = newValue }
    }
}
