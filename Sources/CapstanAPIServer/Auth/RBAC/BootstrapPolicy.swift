import CapstanAPI
import CapstanCore
import OrderedCollections

/// The default ClusterRoles and ClusterRoleBindings kube-apiserver ships
/// that matter to Capstan, written at server start as Kubernetes'
/// `rbac/bootstrap-roles` post-start hook writes them: a missing one is
/// created; one annotated `rbac.authorization.kubernetes.io/autoupdate: "true"`
/// gets the rules and subjects it lacks added (nothing removed); one whose
/// annotation says otherwise is the user's and left alone.
enum BootstrapPolicy {
    static let autoupdate = "rbac.authorization.kubernetes.io/autoupdate"
    static let bootstrapping: JSONObject = ["kubernetes.io/bootstrapping": "rbac-defaults"]

    private static let read = ["get", "list", "watch"]
    private static let write = ["create", "delete", "deletecollection", "patch", "update"]
    private static let discoveryURLs = [
        "/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/",
    ]
    private static let publicInfoURLs = ["/healthz", "/livez", "/readyz", "/version", "/version/"]

    struct ClusterRole {
        var name: String
        var rules: [PolicyRule]
        var labels: [String: String] = [:]
        /// Label selectors (`matchLabels`) of an aggregated role.
        var aggregateFrom: [[String: String]]? = nil
    }

    struct ClusterRoleBinding {
        var name: String
        var role: String
        var subjects: [RBACSubject]
    }

    static let clusterRoles: [ClusterRole] = [
        ClusterRole(
            name: "cluster-admin",
            rules: [PolicyRule(verbs: ["*"], apiGroups: ["*"], resources: ["*"]), PolicyRule(verbs: ["*"], nonResourceURLs: ["*"])]),
        ClusterRole(name: "admin", rules: [], aggregateFrom: [["rbac.authorization.k8s.io/aggregate-to-admin": "true"]]),
        ClusterRole(
            name: "edit", rules: [], labels: ["rbac.authorization.k8s.io/aggregate-to-admin": "true"],
            aggregateFrom: [["rbac.authorization.k8s.io/aggregate-to-edit": "true"]]),
        ClusterRole(
            name: "view", rules: [],
            labels: ["rbac.authorization.k8s.io/aggregate-to-edit": "true"],
            aggregateFrom: [["rbac.authorization.k8s.io/aggregate-to-view": "true"]]),
        ClusterRole(
            name: "system:aggregate-to-admin",
            rules: [
                PolicyRule(verbs: read + write, apiGroups: ["rbac.authorization.k8s.io"], resources: ["rolebindings", "roles"]),
                PolicyRule(verbs: ["create"], apiGroups: ["authorization.k8s.io"], resources: ["localsubjectaccessreviews"]),
            ],
            labels: ["rbac.authorization.k8s.io/aggregate-to-admin": "true"]),
        ClusterRole(
            name: "system:aggregate-to-edit",
            rules: [
                PolicyRule(verbs: ["impersonate"], apiGroups: [""], resources: ["serviceaccounts"]),
                PolicyRule(
                    verbs: write, apiGroups: [""],
                    resources: ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "pods/eviction"]),
                PolicyRule(
                    verbs: write, apiGroups: [""],
                    resources: [
                        "configmaps", "endpoints", "persistentvolumeclaims", "replicationcontrollers", "replicationcontrollers/scale", "secrets",
                        "serviceaccounts", "services", "services/proxy",
                    ]),
                PolicyRule(verbs: ["create"], apiGroups: [""], resources: ["serviceaccounts/token"]),
                PolicyRule(
                    verbs: write, apiGroups: ["apps"],
                    resources: [
                        "daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets", "replicasets/scale", "statefulsets",
                        "statefulsets/scale",
                    ]),
                PolicyRule(verbs: write, apiGroups: ["batch"], resources: ["cronjobs", "jobs"]),
                PolicyRule(
                    verbs: read, apiGroups: [""],
                    resources: ["secrets", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "services/proxy"]),
            ],
            labels: ["rbac.authorization.k8s.io/aggregate-to-edit": "true"]),
        ClusterRole(
            name: "system:aggregate-to-view",
            rules: [
                PolicyRule(
                    verbs: read, apiGroups: [""],
                    resources: [
                        "configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods", "replicationcontrollers",
                        "replicationcontrollers/scale", "serviceaccounts", "services", "services/status",
                    ]),
                PolicyRule(
                    verbs: read, apiGroups: [""],
                    resources: [
                        "bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status", "replicationcontrollers/status",
                        "resourcequotas", "resourcequotas/status",
                    ]),
                PolicyRule(verbs: read, apiGroups: [""], resources: ["namespaces"]),
                PolicyRule(
                    verbs: read, apiGroups: ["apps"],
                    resources: [
                        "controllerrevisions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status",
                        "replicasets",
                        "replicasets/scale", "replicasets/status", "statefulsets", "statefulsets/scale", "statefulsets/status",
                    ]),
                PolicyRule(verbs: read, apiGroups: ["batch"], resources: ["cronjobs", "cronjobs/status", "jobs", "jobs/status"]),
                PolicyRule(verbs: read, apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"]),
            ],
            labels: ["rbac.authorization.k8s.io/aggregate-to-view": "true"]),
        ClusterRole(name: "system:discovery", rules: [PolicyRule(verbs: ["get"], nonResourceURLs: discoveryURLs)]),
        ClusterRole(
            name: "system:basic-user",
            rules: [
                PolicyRule(
                    verbs: ["create"], apiGroups: ["authorization.k8s.io"], resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"])
            ]),
        ClusterRole(name: "system:public-info-viewer", rules: [PolicyRule(verbs: ["get"], nonResourceURLs: publicInfoURLs)]),
        ClusterRole(
            name: "system:service-account-issuer-discovery",
            rules: [PolicyRule(verbs: ["get"], nonResourceURLs: ["/.well-known/openid-configuration", "/openid/v1/jwks"])]),
    ]

    private static let authenticated = RBACSubject(kind: .group, name: User.authenticatedGroup)

    static let clusterRoleBindings: [ClusterRoleBinding] = [
        ClusterRoleBinding(name: "cluster-admin", role: "cluster-admin", subjects: [RBACSubject(kind: .group, name: User.mastersGroup)]),
        ClusterRoleBinding(name: "system:discovery", role: "system:discovery", subjects: [authenticated]),
        ClusterRoleBinding(name: "system:basic-user", role: "system:basic-user", subjects: [authenticated]),
        ClusterRoleBinding(
            name: "system:public-info-viewer", role: "system:public-info-viewer",
            subjects: [authenticated, RBACSubject(kind: .group, name: "system:unauthenticated")]),
        // Kubernetes binds it to `system:serviceaccounts`; the keys are public, so every signed-in user may read them.
        ClusterRoleBinding(
            name: "system:service-account-issuer-discovery", role: "system:service-account-issuer-discovery", subjects: [authenticated]),
    ]

    static func object(_ role: ClusterRole) -> JSONValue {
        var labels = bootstrapping
        for (key, value) in role.labels { labels[key] = .string(value) }
        var object: JSONObject = [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": ["name": .string(role.name), "labels": .object(labels), "annotations": [.init(autoupdate): "true"]],
            "rules": .array(role.rules.map(\.jsonValue)),
        ]
        if let selectors = role.aggregateFrom {
            object["aggregationRule"] = [
                "clusterRoleSelectors": .array(
                    selectors.map { ["matchLabels": .object(JSONObject(uniqueKeysWithValues: $0.map { ($0.key, JSONValue.string($0.value)) }))] })
            ]
        }
        return .object(object)
    }

    static func object(_ binding: ClusterRoleBinding) -> JSONValue {
        [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": ["name": .string(binding.name), "labels": .object(bootstrapping), "annotations": [.init(autoupdate): "true"]],
            "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": .string(binding.role)],
            "subjects": .array(binding.subjects.map(\.jsonValue)),
        ]
    }

    /// Creates what is missing and completes what may be updated; see the type's contract.
    static func reconcile(_ registry: ResourceRegistry) async throws {
        let options = WriteOptions(fieldManager: "kube-apiserver")
        for role in clusterRoles {
            try await reconcile(registry, BuiltinKinds.clusterRole, object(role), options: options, missingList: "rules") { rule, existing in
                existing.map(PolicyRule.init(json:)).contains(PolicyRule(json: rule))
            }
        }
        for binding in clusterRoleBindings {
            try await reconcile(registry, BuiltinKinds.clusterRoleBinding, object(binding), options: options, missingList: "subjects") {
                subject, existing in existing.compactMap(RBACSubject.init(json:)).contains { RBACSubject(json: subject) == $0 }
            }
        }
    }

    /// Creates `desired` if absent; if present and auto-updated, appends the
    /// entries of `desired[missingList]` it lacks.
    private static func reconcile(
        _ registry: ResourceRegistry, _ info: KindInfo, _ desired: JSONValue, options: WriteOptions, missingList key: String,
        contains: (JSONValue, [JSONValue]) -> Bool
    ) async throws {
        let name = desired[path: ["metadata", "name"]]?.stringValue ?? ""
        guard let existing = try await existing(registry, info, name) else {
            try await ignoringConflict { () async throws(APIError) in
                _ = try await registry.create(info, namespace: nil, object: desired, options: options)
            }
            return
        }
        guard existing[path: ["metadata", "annotations", autoupdate]]?.stringValue == "true" else { return }
        let present = existing[key]?.arrayValue ?? []
        let missing = (desired[key]?.arrayValue ?? []).filter { !contains($0, present) }
        guard !missing.isEmpty else { return }
        var updated = existing
        updated[key] = .array(present + missing)
        try await ignoringConflict { () async throws(APIError) in
            _ = try await registry.update(info, namespace: nil, name: name, object: updated, options: options)
        }
    }

    /// The stored object, or nil when there is none.
    private static func existing(_ registry: ResourceRegistry, _ info: KindInfo, _ name: String) async throws(APIError) -> JSONValue? {
        do {
            return try await registry.get(info, namespace: nil, name: name)
        } catch {
            if error.code == 404 { return nil }
            throw error
        }
    }

    /// Runs a write; a conflict means another server of the cluster wrote
    /// meanwhile, and the next start completes what is left.
    private static func ignoringConflict(_ write: () async throws(APIError) -> Void) async throws(APIError) {
        do {
            try await write()
        } catch {
            if error.code != 409 { throw error }
        }
    }
}
