import CapstanCore
import OrderedCollections

/// Every Role, ClusterRole and binding at one moment, and what they allow:
/// Kubernetes' RBAC authorizer over a snapshot. Pure, so a table of
/// objects and requests tests it whole.
///
/// A ClusterRole with an `aggregationRule` has the rules of every ClusterRole
/// its selectors match, in place of its own, as Kubernetes'
/// clusterrole-aggregation controller writes them; roles aggregated into
/// one another (`view` into `edit` into `admin`) are followed to the end.
struct RBACPolicy: Sendable {
    static let apiGroup = "rbac.authorization.k8s.io"

    struct Binding: Sendable {
        var name: String
        /// nil for a ClusterRoleBinding.
        var namespace: String?
        var roleKind: String
        var roleName: String
        var subjects: [RBACSubject]

        init(name: String, namespace: String?, roleKind: String, roleName: String, subjects: [RBACSubject]) {
            self.name = name
            self.namespace = namespace
            self.roleKind = roleKind
            self.roleName = roleName
            self.subjects = subjects
        }

        init?(json: JSONValue) {
            guard let name = json[path: ["metadata", "name"]]?.stringValue, let kind = json[path: ["roleRef", "kind"]]?.stringValue,
                let role = json[path: ["roleRef", "name"]]?.stringValue
            else { return nil }
            let namespace = json[path: ["metadata", "namespace"]]?.stringValue
            let subjects = json["subjects"]?.arrayValue?.compactMap(RBACSubject.init(json:)) ?? []
            self.init(name: name, namespace: namespace?.isEmpty == true ? nil : namespace, roleKind: kind, roleName: role, subjects: subjects)
        }
    }

    /// Rules of namespaced Roles by namespace, then name.
    private(set) var roles: [String: [String: [PolicyRule]]] = [:]
    /// Effective rules of ClusterRoles (aggregation applied) by name.
    private(set) var clusterRoles: [String: [PolicyRule]] = [:]
    private(set) var roleBindings: [String: [Binding]] = [:]
    private(set) var clusterRoleBindings: [Binding] = []

    init() {}

    /// The policy of these stored objects (each list one kind's objects).
    init(roles: [JSONValue], clusterRoles: [JSONValue], roleBindings: [JSONValue], clusterRoleBindings: [JSONValue]) {
        for role in roles {
            guard let name = role[path: ["metadata", "name"]]?.stringValue, let namespace = role[path: ["metadata", "namespace"]]?.stringValue
            else { continue }
            self.roles[namespace, default: [:]][name] = Self.rules(of: role)
        }
        self.clusterRoles = Self.aggregate(clusterRoles)
        for binding in roleBindings.compactMap(Binding.init(json:)) {
            guard let namespace = binding.namespace else { continue }
            self.roleBindings[namespace, default: []].append(binding)
        }
        self.clusterRoleBindings = clusterRoleBindings.compactMap(Binding.init(json:)).map { binding in
            var binding = binding
            binding.namespace = nil
            return binding
        }
    }

    private static func rules(of role: JSONValue) -> [PolicyRule] {
        role["rules"]?.arrayValue?.map(PolicyRule.init(json:)) ?? []
    }

    /// Effective rules of every ClusterRole: an aggregated role's are the
    /// rules of the roles its selectors pick (themselves effective), in name order.
    static func aggregate(_ clusterRoles: [JSONValue]) -> [String: [PolicyRule]] {
        struct Entry {
            var rules: [PolicyRule]
            var labels: [String: String]
            var selectors: [LabelSelector]?
        }
        var entries: [String: Entry] = [:]
        for role in clusterRoles {
            guard let name = role[path: ["metadata", "name"]]?.stringValue else { continue }
            let labels = role[path: ["metadata", "labels"]]?.objectValue?.reduce(into: [String: String]()) { result, pair in
                if let value = pair.value.stringValue { result[pair.key] = value }
            }
            let selectors = role[path: ["aggregationRule", "clusterRoleSelectors"]]?.arrayValue?.compactMap { selector in
                selector.objectValue.flatMap { LabelSelectorSpec(json: $0).selector }
            }
            entries[name] = Entry(rules: rules(of: role), labels: labels ?? [:], selectors: role["aggregationRule"] == nil ? nil : selectors ?? [])
        }
        var effective: [String: [PolicyRule]] = [:]
        func resolve(_ name: String, visiting: Set<String>) -> [PolicyRule] {
            if let done = effective[name] { return done }
            guard let entry = entries[name] else { return [] }
            guard let selectors = entry.selectors else { return entry.rules }
            var rules: [PolicyRule] = []
            for other in entries.keys.sorted() where other != name && !visiting.contains(other) {
                // An empty selector matches nothing here, as the controller skips it.
                guard selectors.contains(where: { !$0.requirements.isEmpty && $0.matches(entries[other]!.labels) }) else { continue }
                for rule in resolve(other, visiting: visiting.union([name])) where !rules.contains(rule) { rules.append(rule) }
            }
            effective[name] = rules
            return rules
        }
        for name in entries.keys { effective[name] = resolve(name, visiting: []) }
        return effective
    }

    /// The rules a binding grants.
    private func rules(of binding: Binding) -> [PolicyRule] {
        switch binding.roleKind {
        case "ClusterRole": clusterRoles[binding.roleName] ?? []
        case "Role": binding.namespace.flatMap { roles[$0]?[binding.roleName] } ?? []
        default: []
        }
    }

    /// The bindings that apply to `user` for a request in `namespace` (nil:
    /// cluster-scoped, or across namespaces): ClusterRoleBindings always,
    /// RoleBindings of that namespace only.
    private func bindings(of user: User, namespace: String?) -> [Binding] {
        var candidates = clusterRoleBindings
        if let namespace { candidates += roleBindings[namespace] ?? [] }
        return candidates.filter { binding in binding.subjects.contains { $0.applies(to: user, bindingNamespace: binding.namespace) } }
    }

    /// Whether some binding of `user` allows the request. A request for a
    /// path (not a resource) is granted by ClusterRoleBindings only.
    func allows(_ user: User, _ request: RequestAttributes) -> Bool {
        let namespace = request.resource?.namespace
        let applicable = bindings(of: user, namespace: request.resource == nil ? nil : namespace)
        return applicable.contains { binding in rules(of: binding).contains { $0.allows(request) } }
    }

    /// Every rule that applies to `user` in `namespace`, as `SelfSubjectRulesReview` lists them.
    func rules(of user: User, namespace: String) -> [PolicyRule] {
        var result: [PolicyRule] = []
        for binding in bindings(of: user, namespace: namespace) {
            for rule in rules(of: binding) where !result.contains(rule) { result.append(rule) }
        }
        return result
    }
}
