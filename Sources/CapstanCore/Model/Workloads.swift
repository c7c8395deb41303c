public import OrderedCollections

/// A Deployment: a desired number of identical Pods, rolled out through ReplicaSets.
public struct Deployment: TypedObject {
    public static let kindInfo = BuiltinKinds.deployment
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var spec: DeploymentSpec {
        get { self[view: "spec"] }
        set { self[view: "spec"] = newValue }
    }
    public var status: WorkloadStatus {
        get { self[view: "status"] }
        set { self[view: "status"] = newValue }
    }
}

public struct DeploymentSpec: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var replicas: Int64 {
        get { self[int: "replicas"] ?? 1 }
        set { self[int: "replicas"] = newValue }
    }
    public var selector: LabelSelectorSpec {
        get { self[view: "selector"] }
        set { self[view: "selector"] = newValue }
    }
    public var template: PodTemplateSpec {
        get { self[view: "template"] }
        set { self[view: "template"] = newValue }
    }
    public var strategy: DeploymentStrategy {
        get { self[view: "strategy"] }
        set { self[view: "strategy"] = newValue }
    }
    public var minReadySeconds: Int64 {
        get { self[int: "minReadySeconds"] ?? 0 }
        set { self[int: "minReadySeconds"] = newValue }
    }
    public var revisionHistoryLimit: Int64 {
        get { self[int: "revisionHistoryLimit"] ?? 10 }
        set { self[int: "revisionHistoryLimit"] = newValue }
    }
    public var progressDeadlineSeconds: Int64 {
        get { self[int: "progressDeadlineSeconds"] ?? 600 }
        set { self[int: "progressDeadlineSeconds"] = newValue }
    }
    public var paused: Bool {
        get { self[bool: "paused"] ?? false }
        set { self[bool: "paused"] = newValue }
    }
}

public struct DeploymentStrategy: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    /// `RollingUpdate` (the default) or `Recreate`.
    public var type: String {
        get { self[string: "type"] ?? "RollingUpdate" }
        set { self[string: "type"] = newValue }
    }
    public var rollingUpdate: RollingUpdateParameters {
        get { self[view: "rollingUpdate"] }
        set { self[view: "rollingUpdate"] = newValue }
    }
}

public struct RollingUpdateParameters: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var maxSurge: IntOrString {
        get { self[intOrString: "maxSurge"] ?? .string("25%") }
        set { self[intOrString: "maxSurge"] = newValue }
    }
    public var maxUnavailable: IntOrString {
        get { self[intOrString: "maxUnavailable"] ?? .string("25%") }
        set { self[intOrString: "maxUnavailable"] = newValue }
    }
    /// StatefulSet rolling updates only replace ordinals at or above this.
    public var partition: Int64? {
        get { self[int: "partition"] }
        set { self[int: "partition"] = newValue }
    }
}

/// The status fields Deployments, ReplicaSets, StatefulSets and DaemonSets share.
public struct WorkloadStatus: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var observedGeneration: Int64? {
        get { self[int: "observedGeneration"] }
        set { self[int: "observedGeneration"] = newValue }
    }
    public var replicas: Int64 {
        get { self[int: "replicas"] ?? 0 }
        set { self[int: "replicas"] = newValue }
    }
    public var readyReplicas: Int64 {
        get { self[int: "readyReplicas"] ?? 0 }
        set { self[int: "readyReplicas"] = newValue }
    }
    public var availableReplicas: Int64 {
        get { self[int: "availableReplicas"] ?? 0 }
        set { self[int: "availableReplicas"] = newValue }
    }
    public var updatedReplicas: Int64 {
        get { self[int: "updatedReplicas"] ?? 0 }
        set { self[int: "updatedReplicas"] = newValue }
    }
    public var unavailableReplicas: Int64 {
        get { self[int: "unavailableReplicas"] ?? 0 }
        set { self[int: "unavailableReplicas"] = newValue }
    }
    public var conditions: [Condition] {
        get { self[views: "conditions"] }
        set { self[views: "conditions"] = newValue }
    }
}

/// A ReplicaSet: keeps a number of Pods matching its selector running.
public struct ReplicaSet: TypedObject {
    public static let kindInfo = BuiltinKinds.replicaSet
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var spec: ReplicaSetSpec {
        get { self[view: "spec"] }
        set { self[view: "spec"] = newValue }
    }
    public var status: WorkloadStatus {
        get { self[view: "status"] }
        set { self[view: "status"] = newValue }
    }
}

public struct ReplicaSetSpec: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var replicas: Int64 {
        get { self[int: "replicas"] ?? 1 }
        set { self[int: "replicas"] = newValue }
    }
    public var minReadySeconds: Int64 {
        get { self[int: "minReadySeconds"] ?? 0 }
        set { self[int: "minReadySeconds"] = newValue }
    }
    public var selector: LabelSelectorSpec {
        get { self[view: "selector"] }
        set { self[view: "selector"] = newValue }
    }
    public var template: PodTemplateSpec {
        get { self[view: "template"] }
        set { self[view: "template"] = newValue }
    }
}

/// A DaemonSet: one Pod on every (selected) node.
public struct DaemonSet: TypedObject {
    public static let kindInfo = BuiltinKinds.daemonSet
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var spec: DaemonSetSpec {
        get { self[view: "spec"] }
        set { self[view: "spec"] = newValue }
    }
    public var status: JSONObject {
        get { json["status"]?.objectValue ?? [:] }
        set { set("status", .object(newValue)) }
    }
}

public struct DaemonSetSpec: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var selector: LabelSelectorSpec {
        get { self[view: "selector"] }
        set { self[view: "selector"] = newValue }
    }
    public var template: PodTemplateSpec {
        get { self[view: "template"] }
        set { self[view: "template"] = newValue }
    }
    public var updateStrategy: DeploymentStrategy {
        get { self[view: "updateStrategy"] }
        set { self[view: "updateStrategy"] = newValue }
    }
    public var minReadySeconds: Int64 {
        get { self[int: "minReadySeconds"] ?? 0 }
        set { self[int: "minReadySeconds"] = newValue }
    }
}

/// A StatefulSet: Pods with stable names (`web-0`, `web-1`) and their own volumes.
public struct StatefulSet: TypedObject {
    public static let kindInfo = BuiltinKinds.statefulSet
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var spec: StatefulSetSpec {
        get { self[view: "spec"] }
        set { self[view: "spec"] = newValue }
    }
    public var status: WorkloadStatus {
        get { self[view: "status"] }
        set { self[view: "status"] = newValue }
    }
}

public struct StatefulSetSpec: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var replicas: Int64 {
        get { self[int: "replicas"] ?? 1 }
        set { self[int: "replicas"] = newValue }
    }
    public var serviceName: String? {
        get { self[string: "serviceName"] }
        set { self[string: "serviceName"] = newValue }
    }
    public var selector: LabelSelectorSpec {
        get { self[view: "selector"] }
        set { self[view: "selector"] = newValue }
    }
    public var template: PodTemplateSpec {
        get { self[view: "template"] }
        set { self[view: "template"] = newValue }
    }
    /// `OrderedReady` (the default) or `Parallel`.
    public var podManagementPolicy: String {
        get { self[string: "podManagementPolicy"] ?? "OrderedReady" }
        set { self[string: "podManagementPolicy"] = newValue }
    }
    public var updateStrategy: DeploymentStrategy {
        get { self[view: "updateStrategy"] }
        set { self[view: "updateStrategy"] = newValue }
    }
    public var volumeClaimTemplates: [JSONValue] {
        get { json["volumeClaimTemplates"]?.arrayValue ?? [] }
        set { set("volumeClaimTemplates", newValue.isEmpty ? nil : .array(newValue)) }
    }
}
