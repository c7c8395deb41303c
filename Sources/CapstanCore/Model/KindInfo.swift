/// What Capstan knows about a kind: where it lives in the API and how it is named.
public struct KindInfo: Hashable, Sendable {
    public var group: String
    public var version: String
    public var kind: String
    /// The lower-case plural used in URLs (`deployments`).
    public var resource: String
    public var namespaced: Bool
    public var shortNames: [String]

    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    public init(group: String, version: String, kind: String, resource: String, namespaced: Bool, shortNames: [String] = []) {
        self.group = group
        self.version = version
        self.kind = kind
        self.resource = resource
        self.namespaced = namespaced
        self.shortNames = shortNames
    }
}

/// The built-in kinds Capstan serves and validates. The kinds a server serves
/// at a moment are these plus the custom ones its CustomResourceDefinitions
/// define: ask the server (discovery), or its `KindCatalog` in process.
public enum BuiltinKinds {
    public static let namespace = KindInfo(group: "", version: "v1", kind: "Namespace", resource: "namespaces", namespaced: false, shortNames: ["ns"])
    public static let node = KindInfo(group: "", version: "v1", kind: "Node", resource: "nodes", namespaced: false, shortNames: ["no"])
    public static let pod = KindInfo(group: "", version: "v1", kind: "Pod", resource: "pods", namespaced: true, shortNames: ["po"])
    public static let service = KindInfo(group: "", version: "v1", kind: "Service", resource: "services", namespaced: true, shortNames: ["svc"])
    public static let endpoints = KindInfo(group: "", version: "v1", kind: "Endpoints", resource: "endpoints", namespaced: true, shortNames: ["ep"])
    /// The addresses behind a Service in slices of at most 100 (`discovery.k8s.io/v1`): what proxies and DNS read.
    public static let endpointSlice = KindInfo(
        group: "discovery.k8s.io", version: "v1", kind: "EndpointSlice", resource: "endpointslices", namespaced: true)
    public static let configMap = KindInfo(group: "", version: "v1", kind: "ConfigMap", resource: "configmaps", namespaced: true, shortNames: ["cm"])
    public static let secret = KindInfo(group: "", version: "v1", kind: "Secret", resource: "secrets", namespaced: true)
    public static let event = KindInfo(group: "", version: "v1", kind: "Event", resource: "events", namespaced: true, shortNames: ["ev"])
    public static let serviceAccount = KindInfo(
        group: "", version: "v1", kind: "ServiceAccount", resource: "serviceaccounts", namespaced: true, shortNames: ["sa"])
    public static let deployment = KindInfo(
        group: "apps", version: "v1", kind: "Deployment", resource: "deployments", namespaced: true, shortNames: ["deploy"])
    public static let replicaSet = KindInfo(
        group: "apps", version: "v1", kind: "ReplicaSet", resource: "replicasets", namespaced: true, shortNames: ["rs"])
    public static let daemonSet = KindInfo(
        group: "apps", version: "v1", kind: "DaemonSet", resource: "daemonsets", namespaced: true, shortNames: ["ds"])
    public static let statefulSet = KindInfo(
        group: "apps", version: "v1", kind: "StatefulSet", resource: "statefulsets", namespaced: true, shortNames: ["sts"])
    public static let job = KindInfo(group: "batch", version: "v1", kind: "Job", resource: "jobs", namespaced: true)
    public static let cronJob = KindInfo(group: "batch", version: "v1", kind: "CronJob", resource: "cronjobs", namespaced: true, shortNames: ["cj"])
    /// The newer Event API; same objects, more structured fields.
    public static let eventV1 = KindInfo(
        group: "events.k8s.io", version: "v1", kind: "Event", resource: "events", namespaced: true, shortNames: ["ev"])
    public static let lease = KindInfo(group: "coordination.k8s.io", version: "v1", kind: "Lease", resource: "leases", namespaced: true)
    public static let limitRange = KindInfo(
        group: "", version: "v1", kind: "LimitRange", resource: "limitranges", namespaced: true, shortNames: ["limits"])
    public static let resourceQuota = KindInfo(
        group: "", version: "v1", kind: "ResourceQuota", resource: "resourcequotas", namespaced: true, shortNames: ["quota"])
    /// RBAC: who may do what (Auth/ in the API server evaluates them).
    public static let role = KindInfo(group: "rbac.authorization.k8s.io", version: "v1", kind: "Role", resource: "roles", namespaced: true)
    public static let clusterRole = KindInfo(
        group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRole", resource: "clusterroles", namespaced: false)
    public static let roleBinding = KindInfo(
        group: "rbac.authorization.k8s.io", version: "v1", kind: "RoleBinding", resource: "rolebindings", namespaced: true)
    public static let clusterRoleBinding = KindInfo(
        group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRoleBinding", resource: "clusterrolebindings", namespaced: false)

    /// The legacy pod controller, kept because Kubernetes 1.32 still serves it.
    public static let replicationController = KindInfo(
        group: "", version: "v1", kind: "ReplicationController", resource: "replicationcontrollers", namespaced: true, shortNames: ["rc"])
    /// A stored pod template, for tools that keep them.
    public static let podTemplate = KindInfo(group: "", version: "v1", kind: "PodTemplate", resource: "podtemplates", namespaced: true)

    /// The API server's own group versions, listed read-only: Capstan does not aggregate APIs.
    public static let apiService = KindInfo(
        group: "apiregistration.k8s.io", version: "v1", kind: "APIService", resource: "apiservices", namespaced: false)

    /// Kinds defined at run time by their CustomResourceDefinitions.
    public static let customResourceDefinition = KindInfo(
        group: "apiextensions.k8s.io", version: "v1", kind: "CustomResourceDefinition", resource: "customresourcedefinitions",
        namespaced: false, shortNames: ["crd", "crds"])

    public static let all: [KindInfo] = [
        namespace, node, pod, service, endpoints, endpointSlice, configMap, secret, event, serviceAccount,
        deployment, replicaSet, daemonSet, statefulSet, job, cronJob, lease, eventV1, limitRange, resourceQuota,
        customResourceDefinition,
        role, clusterRole, roleBinding, clusterRoleBinding,
        replicationController, podTemplate, apiService,
    ]

    private static let byKind: [String: [KindInfo]] = Dictionary(grouping: all, by: \.kind)

    /// The built-in kind with this apiVersion and kind, if Capstan models it.
    public static func lookup(apiVersion: String, kind: String) -> KindInfo? {
        byKind[kind]?.first { $0.apiVersion == apiVersion }
    }

    /// The apiVersions a built-in kind is served at (to explain a wrong apiVersion).
    public static func apiVersions(ofKind kind: String) -> [String] {
        byKind[kind]?.map(\.apiVersion) ?? []
    }
}
