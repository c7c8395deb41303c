import CapstanCore
import OrderedCollections

/// One rule of a Role or ClusterRole, matched as Kubernetes'
/// `rbac/v1` helpers match it: a `*` in verbs, apiGroups or resources
/// matches anything; `pods/log` names a subresource and `*/scale` that
/// subresource of every resource; an empty `resourceNames` matches every
/// object, a non-empty one only requests naming one of them (so never a
/// create or a list); a `nonResourceURLs` entry ending in `*` is a prefix.
struct PolicyRule: Hashable, Sendable {
    var verbs: [String]
    var apiGroups: [String] = []
    var resources: [String] = []
    var resourceNames: [String] = []
    var nonResourceURLs: [String] = []

    init(verbs: [String], apiGroups: [String] = [], resources: [String] = [], resourceNames: [String] = [], nonResourceURLs: [String] = []) {
        self.verbs = verbs
        self.apiGroups = apiGroups
        self.resources = resources
        self.resourceNames = resourceNames
        self.nonResourceURLs = nonResourceURLs
    }

    /// The rule as stored (validated on write; wrongly typed entries are skipped).
    init(json: JSONValue) {
        func strings(_ key: String) -> [String] { json[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        self.init(
            verbs: strings("verbs"), apiGroups: strings("apiGroups"), resources: strings("resources"), resourceNames: strings("resourceNames"),
            nonResourceURLs: strings("nonResourceURLs"))
    }

    var jsonValue: JSONValue {
        var object: JSONObject = ["verbs": .array(verbs.map(JSONValue.string))]
        if !apiGroups.isEmpty { object["apiGroups"] = .array(apiGroups.map(JSONValue.string)) }
        if !resources.isEmpty { object["resources"] = .array(resources.map(JSONValue.string)) }
        if !resourceNames.isEmpty { object["resourceNames"] = .array(resourceNames.map(JSONValue.string)) }
        if !nonResourceURLs.isEmpty { object["nonResourceURLs"] = .array(nonResourceURLs.map(JSONValue.string)) }
        return .object(object)
    }

    /// Whether the rule allows the request (its namespace is the binding's business, not the rule's).
    func allows(_ request: RequestAttributes) -> Bool {
        guard verbs.contains("*") || verbs.contains(request.verb) else { return false }
        guard let resource = request.resource else { return matchesNonResourceURL(request.path) }
        guard apiGroups.contains("*") || apiGroups.contains(resource.group) else { return false }
        guard matchesResource(resource.resource, subresource: resource.subresource) else { return false }
        guard !resourceNames.isEmpty else { return true }
        guard let name = resource.name else { return false }
        return resourceNames.contains(name)
    }

    private func matchesResource(_ resource: String, subresource: String?) -> Bool {
        let combined = subresource.map { "\(resource)/\($0)" } ?? resource
        return resources.contains { rule in
            rule == "*" || rule == combined || (subresource.map { rule == "*/\($0)" } ?? false)
        }
    }

    private func matchesNonResourceURL(_ path: String) -> Bool {
        nonResourceURLs.contains { rule in
            rule == "*" || rule == path || (rule.hasSuffix("*") && path.hasPrefix(rule.dropLast()))
        }
    }
}
