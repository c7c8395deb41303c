public import OrderedCollections

/// A Pod: one or more containers scheduled together on one node.
public struct Pod: TypedObject {
    public static let kindInfo = BuiltinKinds.pod
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var spec: PodSpec {
        get { self[view: "spec"] }
        set { self[view: "spec"] = newValue }
    }
    public var status: PodStatus {
        get { self[view: "status"] }
        set { self[view: "status"] = newValue }
    }
}

public struct PodSpec: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var containers: [Container] {
        get { self[views: "containers"] }
        set { self[views: "containers"] = newValue }
    }
    public var initContainers: [Container] {
        get { self[views: "initContainers"] }
        set { self[views: "initContainers"] = newValue }
    }
    public var volumes: [Volume] {
        get { self[views: "volumes"] }
        set { self[views: "volumes"] = newValue }
    }
    public var nodeName: String? {
        get { self[string: "nodeName"] }
        set { self[string: "nodeName"] = newValue }
    }
    public var nodeSelector: [String: String] {
        get { self[stringMap: "nodeSelector"] }
        set { self[stringMap: "nodeSelector"] = newValue }
    }
    public var restartPolicy: String {
        get { self[string: "restartPolicy"] ?? "Always" }
        set { self[string: "restartPolicy"] = newValue }
    }
    public var terminationGracePeriodSeconds: Int64 {
        get { self[int: "terminationGracePeriodSeconds"] ?? 30 }
        set { self[int: "terminationGracePeriodSeconds"] = newValue }
    }
    public var hostNetwork: Bool {
        get { self[bool: "hostNetwork"] ?? false }
        set { self[bool: "hostNetwork"] = newValue }
    }
    public var hostname: String? {
        get { self[string: "hostname"] }
        set { self[string: "hostname"] = newValue }
    }
    public var subdomain: String? {
        get { self[string: "subdomain"] }
        set { self[string: "subdomain"] = newValue }
    }
    public var serviceAccountName: String? {
        get { self[string: "serviceAccountName"] }
        set { self[string: "serviceAccountName"] = newValue }
    }
    /// The ServiceAccount the pod runs as, as Kubernetes reads it: `serviceAccountName`,
    /// else the deprecated `serviceAccount`, else `default`.
    public var runsAs: String {
        for field in ["serviceAccountName", "serviceAccount"] {
            if let name = self[string: field], !name.isEmpty { return name }
        }
        return "default"
    }
    public var schedulerName: String {
        get { self[string: "schedulerName"] ?? "default-scheduler" }
        set { self[string: "schedulerName"] = newValue }
    }
    public var priority: Int64? {
        get { self[int: "priority"] }
        set { self[int: "priority"] = newValue }
    }
    public var tolerations: [Toleration] {
        get { self[views: "tolerations"] }
        set { self[views: "tolerations"] = newValue }
    }
    /// Affinity rules are read by the scheduler from JSON; they are deep and rarely edited in code.
    public var affinity: JSONValue? {
        get { json["affinity"] }
        set { set("affinity", newValue) }
    }
    public var topologySpreadConstraints: [JSONValue] {
        get { json["topologySpreadConstraints"]?.arrayValue ?? [] }
        set { set("topologySpreadConstraints", newValue.isEmpty ? nil : .array(newValue)) }
    }
    public var securityContext: JSONValue? {
        get { json["securityContext"] }
        set { set("securityContext", newValue) }
    }
    public var dnsPolicy: String {
        get { self[string: "dnsPolicy"] ?? "ClusterFirst" }
        set { self[string: "dnsPolicy"] = newValue }
    }
}

public struct Container: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public init(name: String, image: String) {
        self.json = ["name": .string(name), "image": .string(image)]
    }

    public var name: String {
        get { self[string: "name"] ?? "" }
        set { self[string: "name"] = newValue }
    }
    public var image: String? {
        get { self[string: "image"] }
        set { self[string: "image"] = newValue }
    }
    public var command: [String] {
        get { self[strings: "command"] }
        set { self[strings: "command"] = newValue }
    }
    public var args: [String] {
        get { self[strings: "args"] }
        set { self[strings: "args"] = newValue }
    }
    public var workingDir: String? {
        get { self[string: "workingDir"] }
        set { self[string: "workingDir"] = newValue }
    }
    public var ports: [ContainerPort] {
        get { self[views: "ports"] }
        set { self[views: "ports"] = newValue }
    }
    public var env: [EnvVar] {
        get { self[views: "env"] }
        set { self[views: "env"] = newValue }
    }
    public var envFrom: [JSONValue] {
        get { json["envFrom"]?.arrayValue ?? [] }
        set { set("envFrom", newValue.isEmpty ? nil : .array(newValue)) }
    }
    public var resources: ResourceRequirements {
        get { self[view: "resources"] }
        set { self[view: "resources"] = newValue }
    }
    public var volumeMounts: [VolumeMount] {
        get { self[views: "volumeMounts"] }
        set { self[views: "volumeMounts"] = newValue }
    }
    public var livenessProbe: Probe? {
        get { self[optionalView: "livenessProbe"] }
        set { self[optionalView: "livenessProbe"] = newValue }
    }
    public var readinessProbe: Probe? {
        get { self[optionalView: "readinessProbe"] }
        set { self[optionalView: "readinessProbe"] = newValue }
    }
    public var startupProbe: Probe? {
        get { self[optionalView: "startupProbe"] }
        set { self[optionalView: "startupProbe"] = newValue }
    }
    /// `Always`, `IfNotPresent` or `Never`; Kubernetes defaults it from the image tag.
    public var imagePullPolicy: String? {
        get { self[string: "imagePullPolicy"] }
        set { self[string: "imagePullPolicy"] = newValue }
    }
    public var securityContext: JSONValue? {
        get { json["securityContext"] }
        set { set("securityContext", newValue) }
    }
}

public struct ContainerPort: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var name: String? {
        get { self[string: "name"] }
        set { self[string: "name"] = newValue }
    }
    public var containerPort: Int64 {
        get { self[int: "containerPort"] ?? 0 }
        set { self[int: "containerPort"] = newValue }
    }
    public var hostPort: Int64? {
        get { self[int: "hostPort"] }
        set { self[int: "hostPort"] = newValue }
    }
    public var hostIP: String? {
        get { self[string: "hostIP"] }
        set { self[string: "hostIP"] = newValue }
    }
    public var `protocol`: String {
        get { self[string: "protocol"] ?? "TCP" }
        set { self[string: "protocol"] = newValue }
    }
}

public struct EnvVar: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var name: String {
        get { self[string: "name"] ?? "" }
        set { self[string: "name"] = newValue }
    }
    public var value: String? {
        get { self[string: "value"] }
        set { self[string: "value"] = newValue }
    }
    /// `configMapKeyRef`, `secretKeyRef`, `fieldRef` or `resourceFieldRef`, as JSON.
    public var valueFrom: JSONValue? {
        get { json["valueFrom"] }
        set { set("valueFrom", newValue) }
    }
}

public struct ResourceRequirements: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var requests: [String: Quantity] {
        get { self[quantities: "requests"] }
        set { self[quantities: "requests"] = newValue }
    }
    public var limits: [String: Quantity] {
        get { self[quantities: "limits"] }
        set { self[quantities: "limits"] = newValue }
    }
}

public struct VolumeMount: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var name: String {
        get { self[string: "name"] ?? "" }
        set { self[string: "name"] = newValue }
    }
    public var mountPath: String {
        get { self[string: "mountPath"] ?? "" }
        set { self[string: "mountPath"] = newValue }
    }
    public var subPath: String? {
        get { self[string: "subPath"] }
        set { self[string: "subPath"] = newValue }
    }
    public var readOnly: Bool {
        get { self[bool: "readOnly"] ?? false }
        set { self[bool: "readOnly"] = newValue }
    }
}

/// A volume; its source (`emptyDir`, `hostPath`, `configMap`, `secret`,
/// `downwardAPI`, `persistentVolumeClaim`…) is the one other key it has.
public struct Volume: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public static let sourceKinds = [
        "emptyDir", "hostPath", "configMap", "secret", "downwardAPI", "projected", "persistentVolumeClaim", "nfs",
        "csi", "ephemeral",
    ]

    public var name: String {
        get { self[string: "name"] ?? "" }
        set { self[string: "name"] = newValue }
    }
    /// The source kinds set on this volume (valid volumes have exactly one).
    public var sourceKinds: [String] { Self.sourceKinds.filter { json[$0] != nil } }
}

public struct Probe: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public static let handlerKinds = ["exec", "httpGet", "tcpSocket", "grpc"]

    public var exec: JSONValue? { json["exec"] }
    public var httpGet: JSONValue? { json["httpGet"] }
    public var tcpSocket: JSONValue? { json["tcpSocket"] }
    public var initialDelaySeconds: Int64 {
        get { self[int: "initialDelaySeconds"] ?? 0 }
        set { self[int: "initialDelaySeconds"] = newValue }
    }
    public var timeoutSeconds: Int64 {
        get { self[int: "timeoutSeconds"] ?? 1 }
        set { self[int: "timeoutSeconds"] = newValue }
    }
    public var periodSeconds: Int64 {
        get { self[int: "periodSeconds"] ?? 10 }
        set { self[int: "periodSeconds"] = newValue }
    }
    public var successThreshold: Int64 {
        get { self[int: "successThreshold"] ?? 1 }
        set { self[int: "successThreshold"] = newValue }
    }
    public var failureThreshold: Int64 {
        get { self[int: "failureThreshold"] ?? 3 }
        set { self[int: "failureThreshold"] = newValue }
    }
}

public struct Toleration: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var key: String? {
        get { self[string: "key"] }
        set { self[string: "key"] = newValue }
    }
    public var `operator`: String {
        get { self[string: "operator"] ?? "Equal" }
        set { self[string: "operator"] = newValue }
    }
    public var value: String? {
        get { self[string: "value"] }
        set { self[string: "value"] = newValue }
    }
    public var effect: String? {
        get { self[string: "effect"] }
        set { self[string: "effect"] = newValue }
    }
    public var tolerationSeconds: Int64? {
        get { self[int: "tolerationSeconds"] }
        set { self[int: "tolerationSeconds"] = newValue }
    }
}

public struct PodStatus: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    /// `Pending`, `Running`, `Succeeded`, `Failed` or `Unknown`.
    public var phase: String? {
        get { self[string: "phase"] }
        set { self[string: "phase"] = newValue }
    }
    public var podIP: String? {
        get { self[string: "podIP"] }
        set { self[string: "podIP"] = newValue }
    }
    public var hostIP: String? {
        get { self[string: "hostIP"] }
        set { self[string: "hostIP"] = newValue }
    }
    public var startTime: String? {
        get { self[string: "startTime"] }
        set { self[string: "startTime"] = newValue }
    }
    public var reason: String? {
        get { self[string: "reason"] }
        set { self[string: "reason"] = newValue }
    }
    public var message: String? {
        get { self[string: "message"] }
        set { self[string: "message"] = newValue }
    }
    public var conditions: [Condition] {
        get { self[views: "conditions"] }
        set { self[views: "conditions"] = newValue }
    }
    public var containerStatuses: [ContainerStatus] {
        get { self[views: "containerStatuses"] }
        set { self[views: "containerStatuses"] = newValue }
    }
    public var initContainerStatuses: [ContainerStatus] {
        get { self[views: "initContainerStatuses"] }
        set { self[views: "initContainerStatuses"] = newValue }
    }
}

public struct ContainerStatus: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var name: String {
        get { self[string: "name"] ?? "" }
        set { self[string: "name"] = newValue }
    }
    public var ready: Bool {
        get { self[bool: "ready"] ?? false }
        set { self[bool: "ready"] = newValue }
    }
    public var started: Bool? {
        get { self[bool: "started"] }
        set { self[bool: "started"] = newValue }
    }
    public var restartCount: Int64 {
        get { self[int: "restartCount"] ?? 0 }
        set { self[int: "restartCount"] = newValue }
    }
    public var image: String? {
        get { self[string: "image"] }
        set { self[string: "image"] = newValue }
    }
    public var imageID: String? {
        get { self[string: "imageID"] }
        set { self[string: "imageID"] = newValue }
    }
    public var containerID: String? {
        get { self[string: "containerID"] }
        set { self[string: "containerID"] = newValue }
    }
    /// `{waiting: {reason}}`, `{running: {startedAt}}` or `{terminated: {exitCode, reason…}}`.
    public var state: JSONValue? {
        get { json["state"] }
        set { set("state", newValue) }
    }
    public var lastState: JSONValue? {
        get { json["lastState"] }
        set { set("lastState", newValue) }
    }
}

/// A status condition, the shape every kind shares (`type`, `status`, `reason`…).
public struct Condition: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public init(type: String, status: Bool, reason: String? = nil, message: String? = nil, time: String? = nil) {
        self.json = ["type": .string(type), "status": .string(status ? "True" : "False")]
        self.reason = reason
        self.message = message
        if let time { self.lastTransitionTime = time }
    }

    public var type: String {
        get { self[string: "type"] ?? "" }
        set { self[string: "type"] = newValue }
    }
    /// `True`, `False` or `Unknown`.
    public var status: String {
        get { self[string: "status"] ?? "Unknown" }
        set { self[string: "status"] = newValue }
    }
    public var isTrue: Bool { status == "True" }
    public var reason: String? {
        get { self[string: "reason"] }
        set { self[string: "reason"] = newValue }
    }
    public var message: String? {
        get { self[string: "message"] }
        set { self[string: "message"] = newValue }
    }
    public var lastTransitionTime: String? {
        get { self[string: "lastTransitionTime"] }
        set { self[string: "lastTransitionTime"] = newValue }
    }
    public var lastHeartbeatTime: String? {
        get { self[string: "lastHeartbeatTime"] }
        set { self[string: "lastHeartbeatTime"] = newValue }
    }
}

/// `spec.template` of workloads: the Pod they stamp out.
public struct PodTemplateSpec: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var metadata: ObjectMeta {
        get { self[view: "metadata"] }
        set { self[view: "metadata"] = newValue }
    }
    public var spec: PodSpec {
        get { self[view: "spec"] }
        set { self[view: "spec"] = newValue }
    }
}

extension Pod {
    /// ConfigMaps the pod uses: env `configMapKeyRef`, `envFrom`, volumes and projected volumes.
    public var referencedConfigMaps: Set<String> { references().configMaps }

    /// Secrets the pod uses: env `secretKeyRef`, `envFrom`, volumes, projected volumes and `imagePullSecrets`.
    public var referencedSecrets: Set<String> { references().secrets }

    private func references() -> (configMaps: Set<String>, secrets: Set<String>) {
        var configMaps = Set<String>()
        var secrets = Set<String>()
        for container in spec.initContainers + spec.containers {
            for variable in container.env {
                if let name = variable.valueFrom?["configMapKeyRef"]?["name"]?.stringValue { configMaps.insert(name) }
                if let name = variable.valueFrom?["secretKeyRef"]?["name"]?.stringValue { secrets.insert(name) }
            }
            for source in container.envFrom {
                if let name = source["configMapRef"]?["name"]?.stringValue { configMaps.insert(name) }
                if let name = source["secretRef"]?["name"]?.stringValue { secrets.insert(name) }
            }
        }
        for volume in spec.volumes {
            if let name = volume.json["configMap"]?["name"]?.stringValue { configMaps.insert(name) }
            if let name = volume.json["secret"]?["secretName"]?.stringValue { secrets.insert(name) }
            for source in volume.json["projected"]?["sources"]?.arrayValue ?? [] {
                if let name = source["configMap"]?["name"]?.stringValue { configMaps.insert(name) }
                if let name = source["secret"]?["name"]?.stringValue { secrets.insert(name) }
            }
        }
        for reference in spec.json["imagePullSecrets"]?.arrayValue ?? [] {
            if let name = reference["name"]?.stringValue { secrets.insert(name) }
        }
        return (configMaps, secrets)
    }
}
