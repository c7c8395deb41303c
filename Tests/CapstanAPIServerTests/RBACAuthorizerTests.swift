import CapstanAPI
import CapstanCore
import OrderedCollections
import Testing

@testable import CapstanAPIServer

/// One rule against one request (method and path as on the wire).
struct RuleCase: CustomTestStringConvertible, Sendable {
    var rule: PolicyRule
    var method: String
    var path: String
    var allowed: Bool

    var testDescription: String {
        "\(rule.verbs) \(rule.apiGroups) \(rule.resources)\(rule.resourceNames) \(rule.nonResourceURLs) \(method) \(path) → \(allowed)"
    }
}

private func rule(_ verbs: [String], _ groups: [String] = [""], _ resources: [String] = [], names: [String] = [], urls: [String] = []) -> PolicyRule {
    PolicyRule(verbs: verbs, apiGroups: urls.isEmpty ? groups : [], resources: resources, resourceNames: names, nonResourceURLs: urls)
}

private let pods = "/api/v1/namespaces/demo/pods"

@Suite struct RBACAuthorizerTests {
    static let rules: [RuleCase] = [
        .init(rule: rule(["list"], [""], ["pods"]), method: "GET", path: pods, allowed: true),
        .init(rule: rule(["get"], [""], ["pods"]), method: "GET", path: pods, allowed: false),
        .init(rule: rule(["*"], [""], ["pods"]), method: "DELETE", path: pods + "/web", allowed: true),
        .init(rule: rule(["list"], ["apps"], ["pods"]), method: "GET", path: pods, allowed: false),
        .init(rule: rule(["list"], ["*"], ["deployments"]), method: "GET", path: "/apis/apps/v1/deployments", allowed: true),
        .init(rule: rule(["list"], [""], ["*"]), method: "GET", path: "/api/v1/namespaces/demo/secrets", allowed: true),
        // Subresources: named exactly, or `*/<sub>`; the resource alone does not cover them.
        .init(rule: rule(["get"], [""], ["pods"]), method: "GET", path: pods + "/web/log", allowed: false),
        .init(rule: rule(["get"], [""], ["pods/log"]), method: "GET", path: pods + "/web/log", allowed: true),
        .init(rule: rule(["get"], [""], ["pods/log"]), method: "GET", path: pods + "/web", allowed: false),
        .init(
            rule: rule(["patch"], ["apps"], ["*/scale"]), method: "PATCH", path: "/apis/apps/v1/namespaces/demo/deployments/web/scale", allowed: true),
        .init(rule: rule(["patch"], ["apps"], ["*/scale"]), method: "PATCH", path: "/apis/apps/v1/namespaces/demo/deployments/web", allowed: false),
        .init(rule: rule(["get"], [""], ["*"]), method: "GET", path: pods + "/web/status", allowed: true),
        // resourceNames: only requests naming one of them.
        .init(
            rule: rule(["get"], [""], ["configmaps"], names: ["app"]), method: "GET", path: "/api/v1/namespaces/demo/configmaps/app", allowed: true),
        .init(
            rule: rule(["get"], [""], ["configmaps"], names: ["app"]), method: "GET", path: "/api/v1/namespaces/demo/configmaps/db", allowed: false),
        .init(rule: rule(["list"], [""], ["configmaps"], names: ["app"]), method: "GET", path: "/api/v1/namespaces/demo/configmaps", allowed: false),
        .init(
            rule: rule(["create"], [""], ["configmaps"], names: ["app"]), method: "POST", path: "/api/v1/namespaces/demo/configmaps", allowed: false),
        // Non-resource URLs: exact, `*`, or a prefix ending in `*`.
        .init(rule: rule(["get"], urls: ["/healthz"]), method: "GET", path: "/healthz", allowed: true),
        .init(rule: rule(["get"], urls: ["/healthz"]), method: "GET", path: "/healthz/etcd", allowed: false),
        .init(rule: rule(["get"], urls: ["/healthz/*"]), method: "GET", path: "/healthz/etcd", allowed: true),
        .init(rule: rule(["get"], urls: ["/apis/*"]), method: "GET", path: "/apis", allowed: false),
        .init(rule: rule(["get"], urls: ["*"]), method: "GET", path: "/metrics", allowed: true),
        .init(rule: rule(["get"], urls: ["*"]), method: "POST", path: "/metrics", allowed: false),
        .init(rule: rule(["get"], urls: ["*"]), method: "GET", path: pods, allowed: false),
        .init(rule: rule(["*"], ["*"], ["*"]), method: "GET", path: "/metrics", allowed: false),
    ]

    @Test(arguments: rules)
    func ruleMatching(_ row: RuleCase) {
        let request = RequestAttributes(method: row.method, path: row.path, watch: false)
        #expect(row.rule.allows(request) == row.allowed)
    }

    // MARK: Bindings and subjects

    static func clusterRole(_ name: String, _ rules: [PolicyRule], labels: JSONValue = .object([:]), aggregate: JSONValue? = nil) -> JSONValue {
        var object: JSONValue = [
            "kind": "ClusterRole", "metadata": ["name": .string(name), "labels": labels], "rules": .array(rules.map(\.jsonValue)),
        ]
        if let aggregate { object["aggregationRule"] = ["clusterRoleSelectors": [["matchLabels": aggregate]]] }
        return object
    }

    static func binding(_ name: String, namespace: String?, role: String, kind: String = "ClusterRole", _ subjects: [RBACSubject]) -> JSONValue {
        var metadata: JSONObject = ["name": .string(name)]
        if let namespace { metadata["namespace"] = .string(namespace) }
        return [
            "metadata": .object(metadata), "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": .string(kind), "name": .string(role)],
            "subjects": .array(subjects.map(\.jsonValue)),
        ]
    }

    static let policy = RBACPolicy(
        roles: [
            ["metadata": ["name": "pod-reader", "namespace": "demo"], "rules": [rule(["get", "list"], [""], ["pods"]).jsonValue]]
        ],
        clusterRoles: [
            clusterRole("secret-reader", [rule(["get", "list"], [""], ["secrets"])]),
            clusterRole("health", [rule(["get"], urls: ["/metrics"])]),
            // Aggregation: `monitoring` gathers every role labelled for it, including through `metrics-view`.
            clusterRole("monitoring", [rule(["delete"], [""], ["nodes"])], aggregate: ["example.com/aggregate-to-monitoring": "true"]),
            clusterRole("endpoints-view", [rule(["list"], [""], ["endpoints"])], labels: ["example.com/aggregate-to-monitoring": "true"]),
            clusterRole(
                "metrics-view", [], labels: ["example.com/aggregate-to-monitoring": "true"], aggregate: ["example.com/aggregate-to-metrics": "true"]),
            clusterRole("services-view", [rule(["list"], [""], ["services"])], labels: ["example.com/aggregate-to-metrics": "true"]),
        ],
        roleBindings: [
            binding("sa-reads-pods", namespace: "demo", role: "pod-reader", kind: "Role", [RBACSubject(kind: .serviceAccount, name: "default")]),
            binding("jane-reads-secrets", namespace: "demo", role: "secret-reader", [RBACSubject(kind: .user, name: "jane")]),
            binding("ops-monitor", namespace: "demo", role: "monitoring", [RBACSubject(kind: .group, name: "ops")]),
        ],
        clusterRoleBindings: [
            binding("all-sa-health", namespace: nil, role: "health", [RBACSubject(kind: .group, name: "system:serviceaccounts:demo")])
        ])

    struct SubjectCase: CustomTestStringConvertible, Sendable {
        var user: User
        var method: String
        var path: String
        var allowed: Bool
        var testDescription: String { "\(user.name) \(user.groups) \(method) \(path) → \(allowed)" }
    }

    static let demoSA = User(name: "system:serviceaccount:demo:default", role: .rbacOnly, groups: ServiceAccountIdentity.groups(namespace: "demo"))
    static let otherSA = User(name: "system:serviceaccount:other:default", role: .rbacOnly, groups: ServiceAccountIdentity.groups(namespace: "other"))
    static let jane = User(name: "jane", role: .rbacOnly, groups: [])
    static let ops = User(name: "olga", role: .rbacOnly, groups: ["ops"])

    static let subjects: [SubjectCase] = [
        .init(user: demoSA, method: "GET", path: pods, allowed: true),
        .init(user: demoSA, method: "GET", path: "/api/v1/namespaces/demo/secrets", allowed: false),
        // A RoleBinding grants in its namespace only, never across namespaces or cluster-wide.
        .init(user: demoSA, method: "GET", path: "/api/v1/namespaces/other/pods", allowed: false),
        .init(user: demoSA, method: "GET", path: "/api/v1/pods", allowed: false),
        .init(user: otherSA, method: "GET", path: "/api/v1/namespaces/other/pods", allowed: false),
        .init(user: demoSA, method: "GET", path: "/metrics", allowed: true),
        .init(user: otherSA, method: "GET", path: "/metrics", allowed: false),
        .init(user: jane, method: "GET", path: "/api/v1/namespaces/demo/secrets/db", allowed: true),
        .init(user: jane, method: "GET", path: "/api/v1/namespaces/default/secrets/db", allowed: false),
        // A ClusterRole bound in a namespace grants nothing about paths.
        .init(user: ops, method: "GET", path: "/api/v1/namespaces/demo/endpoints", allowed: true),
        .init(user: ops, method: "GET", path: "/api/v1/namespaces/demo/services", allowed: true),
        .init(user: ops, method: "DELETE", path: "/api/v1/nodes/n1", allowed: false),
        .init(user: ops, method: "DELETE", path: "/api/v1/namespaces/demo/nodes/n1", allowed: false),
        .init(user: ops, method: "GET", path: "/api/v1/namespaces/demo/pods", allowed: false),
    ]

    @Test(arguments: subjects)
    func bindingsGrantTheirSubjects(_ row: SubjectCase) {
        #expect(Self.policy.allows(row.user, RequestAttributes(method: row.method, path: row.path, watch: false)) == row.allowed)
    }

    @Test func aggregatedRoleHasTheRulesOfTheRolesItSelectsNotItsOwn() {
        let rules = RBACPolicy.aggregate(Self.policy.clusterRolesForTesting)
        #expect(rules["monitoring"] == [rule(["list"], [""], ["endpoints"]), rule(["list"], [""], ["services"])])
        #expect(rules["metrics-view"] == [rule(["list"], [""], ["services"])])
    }

    @Test func bootstrapViewEditAdminAggregateAsKubernetes() {
        let objects = BootstrapPolicy.clusterRoles.map(BootstrapPolicy.object)
        let rules = RBACPolicy.aggregate(objects)
        let view = rules["view"] ?? []
        let edit = rules["edit"] ?? []
        let admin = rules["admin"] ?? []
        let listPods = RequestAttributes(method: "GET", path: pods, watch: false)
        let getSecret = RequestAttributes(method: "GET", path: "/api/v1/namespaces/demo/secrets/s", watch: false)
        let createRole = RequestAttributes(method: "POST", path: "/apis/rbac.authorization.k8s.io/v1/namespaces/demo/roles", watch: false)
        #expect(view.contains { $0.allows(listPods) } && !view.contains { $0.allows(getSecret) })
        #expect(edit.contains { $0.allows(getSecret) } && !edit.contains { $0.allows(createRole) })
        #expect(admin.contains { $0.allows(createRole) } && admin.contains { $0.allows(listPods) })
    }

    @Test func userGroupsFollowKubernetes() {
        #expect(User(name: "admin", role: .admin).groups == ["system:masters", "system:authenticated"])
        #expect(User(name: "viewer", role: .viewer).groups == ["system:authenticated"])
        #expect(ServiceAccountIdentity.split("system:serviceaccount:demo:default")! == ("demo", "default"))
        #expect(ServiceAccountIdentity.split("system:serviceaccount:demo") == nil)
    }
}

extension RBACPolicy {
    fileprivate var clusterRolesForTesting: [JSONValue] {
        RBACAuthorizerTests.policySources
    }
}

extension RBACAuthorizerTests {
    static let policySources: [JSONValue] = [
        clusterRole("monitoring", [rule(["delete"], [""], ["nodes"])], aggregate: ["example.com/aggregate-to-monitoring": "true"]),
        clusterRole("endpoints-view", [rule(["list"], [""], ["endpoints"])], labels: ["example.com/aggregate-to-monitoring": "true"]),
        clusterRole(
            "metrics-view", [], labels: ["example.com/aggregate-to-monitoring": "true"], aggregate: ["example.com/aggregate-to-metrics": "true"]),
        clusterRole("services-view", [rule(["list"], [""], ["services"])], labels: ["example.com/aggregate-to-metrics": "true"]),
    ]
}
