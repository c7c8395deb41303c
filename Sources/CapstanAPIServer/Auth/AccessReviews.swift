import CapstanAPI
import CapstanCore
import OrderedCollections

/// `authorization.k8s.io/v1` reviews, what `kubectl auth can-i` asks:
/// answered from the same authorizers as every request, never stored.
/// A SelfSubjectAccessReview asks about the caller, a SubjectAccessReview
/// about anyone (its caller needs `create` on it, as in Kubernetes), and a
/// SelfSubjectRulesReview lists the caller's RBAC rules in a namespace.
struct AccessReviews: Sendable {
    let access: AccessControl

    static let group = "authorization.k8s.io"
    static let resources: Set<String> = ["selfsubjectaccessreviews", "subjectaccessreviews", "selfsubjectrulesreviews"]

    /// Whether a path is one of the reviews' (which are created, never read).
    static func isReview(_ path: ResourcePath) -> Bool {
        path.group == group && path.version == "v1" && path.namespace == nil && path.name == nil && resources.contains(path.resource)
    }

    /// The review with its `status` filled in.
    func answer(_ resource: String, _ review: JSONValue, caller: User) throws(APIError) -> JSONValue {
        let kind =
            ["selfsubjectaccessreviews": "SelfSubjectAccessReview", "subjectaccessreviews": "SubjectAccessReview"][resource]
            ?? "SelfSubjectRulesReview"
        guard case .object = review, review["kind"]?.stringValue == kind else {
            throw .badRequest("the body of a \(resource) request must be a \(kind)")
        }
        var answered = review
        answered["apiVersion"] = "authorization.k8s.io/v1"
        if answered["metadata"] == nil { answered["metadata"] = .object([:]) }
        let spec = review["spec"] ?? .object([:])
        switch resource {
        case "selfsubjectrulesreviews":
            answered["status"] = rules(of: caller, namespace: spec["namespace"]?.stringValue ?? "")
        case "subjectaccessreviews":
            guard let name = spec["user"]?.stringValue, !name.isEmpty else {
                let groups = spec["groups"]?.arrayValue ?? []
                guard !groups.isEmpty else { throw .invalidReview("at least one of user or group must be specified") }
                answered["status"] = try status(of: User(name: "", role: .rbacOnly, groups: groups.compactMap(\.stringValue)), spec)
                return answered
            }
            let groups = spec["groups"]?.arrayValue?.compactMap(\.stringValue) ?? []
            answered["status"] = try status(of: User(name: name, role: .rbacOnly, groups: groups), spec)
        default:
            answered["status"] = try status(of: caller, spec)
        }
        return answered
    }

    private func status(of user: User, _ spec: JSONValue) throws(APIError) -> JSONValue {
        let attributes: RequestAttributes
        if let resource = spec["resourceAttributes"], case .object = resource {
            func text(_ key: String) -> String? { resource[key]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } }
            attributes = RequestAttributes(
                verb: text("verb") ?? "", path: "",
                resource: .init(
                    group: text("group") ?? "", resource: text("resource") ?? "", subresource: text("subresource"), namespace: text("namespace"),
                    name: text("name")))
        } else if let path = spec[path: ["nonResourceAttributes", "path"]]?.stringValue {
            attributes = RequestAttributes(verb: spec[path: ["nonResourceAttributes", "verb"]]?.stringValue ?? "", path: path)
        } else {
            throw .invalidReview("exactly one of nonResourceAttributes or resourceAttributes must be specified")
        }
        return ["allowed": .bool(access.allows(user, attributes))]
    }

    private func rules(of user: User, namespace: String) -> JSONValue {
        let rules = access.rbac?.policy.rules(of: user, namespace: namespace) ?? []
        var resourceRules: [JSONValue] = []
        var nonResourceRules: [JSONValue] = []
        if user.groups.contains(User.mastersGroup) {
            resourceRules.append(["verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]])
            nonResourceRules.append(["verbs": ["*"], "nonResourceURLs": ["*"]])
        }
        for rule in rules {
            var json = rule.jsonValue
            if rule.nonResourceURLs.isEmpty {
                json["apiGroups"] = .array(rule.apiGroups.map(JSONValue.string))
                resourceRules.append(json)
            } else {
                nonResourceRules.append(json)
            }
        }
        // A viewer's or node's built-in role is no list of rules: the list is partial then.
        let builtIn: Bool
        switch user.role {
        case .viewer, .node: builtIn = true
        case .admin, .rbacOnly: builtIn = false
        }
        var status: JSONObject = [
            "resourceRules": .array(resourceRules), "nonResourceRules": .array(nonResourceRules), "incomplete": .bool(builtIn),
        ]
        if builtIn { status["evaluationError"] = .string("the built-in \(user.role) role is not listed as rules") }
        return .object(status)
    }
}

extension APIError {
    /// 422 for a review that asks nothing answerable, worded as Kubernetes words it.
    static func invalidReview(_ message: String) -> APIError {
        APIError(code: 422, reason: "Invalid", message: message)
    }
}
