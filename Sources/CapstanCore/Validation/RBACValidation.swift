import OrderedCollections

/// The RBAC kinds' rules, as Kubernetes' `pkg/apis/rbac/validation` states
/// them: every rule names verbs; a rule is about resources or about
/// non-resource URLs, never both; a binding refers to a Role or ClusterRole
/// of the RBAC group and names each subject's kind.
extension FieldChecker {
    static let rbacGroup = "rbac.authorization.k8s.io"

    /// `rules` of a Role (`namespaced`) or ClusterRole.
    mutating func validatePolicyRules(_ value: JSONValue?, _ path: FieldPath, namespaced: Bool) {
        for (index, rule) in objects(value, path) {
            let rulePath = path.index(index)
            let verbs = stringList(rule["verbs"], rulePath.child("verbs"))
            if verbs.isEmpty { add(.required(rulePath.child("verbs"), "verbs must contain at least one value")) }
            let urls = stringList(rule["nonResourceURLs"], rulePath.child("nonResourceURLs"))
            let groups = rule["apiGroups"].map { stringList($0, rulePath.child("apiGroups")) } ?? []
            let resources = stringList(rule["resources"], rulePath.child("resources"))
            _ = stringList(rule["resourceNames"], rulePath.child("resourceNames"))
            if !urls.isEmpty {
                if namespaced {
                    add(
                        .invalid(
                            rulePath.child("nonResourceURLs"), .array(urls.map(JSONValue.string)),
                            "namespaced rules cannot apply to non-resource URLs"))
                }
                if !groups.isEmpty || !resources.isEmpty {
                    add(
                        .invalid(
                            rulePath.child("nonResourceURLs"), .array(urls.map(JSONValue.string)),
                            "rules cannot apply to both regular resources and non-resource URLs"))
                }
                continue
            }
            // `apiGroups: [""]` is the core group: present but empty-named is fine.
            if rule["apiGroups"]?.arrayValue?.isEmpty ?? true {
                add(.required(rulePath.child("apiGroups"), "resource rules must supply at least one api group"))
            }
            if resources.isEmpty { add(.required(rulePath.child("resources"), "resource rules must supply at least one resource")) }
        }
    }

    /// A ClusterRole: its rules, and an `aggregationRule` that selects something.
    mutating func validateClusterRole(_ object: JSONObject) {
        validatePolicyRules(object["rules"], FieldPath("rules"), namespaced: false)
        let path = FieldPath("aggregationRule")
        guard let aggregation = self.object(object["aggregationRule"], path) else { return }
        let selectorsPath = path.child("clusterRoleSelectors")
        let selectors = objects(aggregation["clusterRoleSelectors"], selectorsPath)
        if selectors.isEmpty {
            add(.required(selectorsPath, "at least one clusterRoleSelector required if aggregationRule is non-nil"))
        }
        for (index, selector) in selectors { validateLabelSelector(.object(selector), selectorsPath.index(index)) }
    }

    /// A RoleBinding (`namespaced`) or ClusterRoleBinding: `roleRef` and `subjects`.
    mutating func validateRoleBinding(_ object: JSONObject, namespaced: Bool) {
        let refPath = FieldPath("roleRef")
        if let ref = self.object(object["roleRef"], refPath) {
            if string(ref["apiGroup"], refPath.child("apiGroup")) != Self.rbacGroup {
                add(.notSupported(refPath.child("apiGroup"), ref["apiGroup"] ?? .string(""), supported: [Self.rbacGroup]))
            }
            let kinds = namespaced ? ["Role", "ClusterRole"] : ["ClusterRole"]
            oneOf(ref["kind"], refPath.child("kind"), kinds, required: true)
            if let name = requiredString(ref["name"], refPath.child("name")) {
                check(NameRules.pathSegment(name), refPath.child("name"), name)
            }
        } else {
            add(.required(refPath))
        }
        for (index, subject) in objects(object["subjects"], FieldPath("subjects")) {
            validateSubject(subject, FieldPath("subjects").index(index), namespaced: namespaced)
        }
    }

    private mutating func validateSubject(_ subject: JSONObject, _ path: FieldPath, namespaced: Bool) {
        let name = requiredString(subject["name"], path.child("name"))
        let apiGroup = string(subject["apiGroup"], path.child("apiGroup")) ?? ""
        switch requiredString(subject["kind"], path.child("kind")) {
        case "ServiceAccount":
            if !apiGroup.isEmpty { add(.notSupported(path.child("apiGroup"), .string(apiGroup), supported: [""])) }
            if let name { check(NameRules.dns1123Subdomain(name), path.child("name"), name) }
            // A RoleBinding's service account defaults to the binding's namespace; a ClusterRoleBinding has none.
            if !namespaced, (string(subject["namespace"], path.child("namespace")) ?? "").isEmpty { add(.required(path.child("namespace"))) }
        case "User", "Group":
            if apiGroup != Self.rbacGroup { add(.notSupported(path.child("apiGroup"), .string(apiGroup), supported: [Self.rbacGroup])) }
        case let kind?:
            add(.notSupported(path.child("kind"), .string(kind), supported: ["ServiceAccount", "User", "Group"]))
        case nil:
            break
        }
    }

    /// The strings of a list of strings; wrong element types are recorded.
    private mutating func stringList(_ value: JSONValue?, _ path: FieldPath) -> [String] {
        guard let items = array(value, path) else { return [] }
        return items.enumerated().compactMap { string($0.element, path.index($0.offset)) }
    }
}
