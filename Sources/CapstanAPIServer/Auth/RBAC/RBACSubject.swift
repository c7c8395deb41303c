import CapstanCore
import OrderedCollections

/// Who a RoleBinding or ClusterRoleBinding grants its role to.
struct RBACSubject: Hashable, Sendable {
    enum Kind: String, Sendable {
        case user = "User"
        case group = "Group"
        case serviceAccount = "ServiceAccount"
    }

    var kind: Kind
    var name: String
    /// A service account's namespace; for a RoleBinding's, empty means the binding's.
    var namespace: String = ""

    init(kind: Kind, name: String, namespace: String = "") {
        self.kind = kind
        self.name = name
        self.namespace = namespace
    }

    init?(json: JSONValue) {
        guard let kind = json["kind"]?.stringValue.flatMap(Kind.init(rawValue:)), let name = json["name"]?.stringValue else { return nil }
        self.init(kind: kind, name: name, namespace: json["namespace"]?.stringValue ?? "")
    }

    var jsonValue: JSONValue {
        var object: JSONObject = ["kind": .string(kind.rawValue), "name": .string(name)]
        switch kind {
        case .serviceAccount: if !namespace.isEmpty { object["namespace"] = .string(namespace) }
        case .user, .group: object["apiGroup"] = .string(RBACPolicy.apiGroup)
        }
        return .object(object)
    }

    /// Whether the subject is this user, as Kubernetes' `appliesToUser` decides it.
    func applies(to user: User, bindingNamespace: String?) -> Bool {
        switch kind {
        case .user: return user.name == name
        case .group: return user.groups.contains(name)
        case .serviceAccount:
            let namespace = self.namespace.isEmpty ? (bindingNamespace ?? "") : self.namespace
            return !namespace.isEmpty && user.name == ServiceAccountIdentity.userName(namespace: namespace, name: name)
        }
    }
}

/// How Kubernetes names a service account as a user and its groups.
enum ServiceAccountIdentity {
    static let prefix = "system:serviceaccount:"
    static let allGroup = "system:serviceaccounts"

    static func userName(namespace: String, name: String) -> String { "\(prefix)\(namespace):\(name)" }

    /// `system:serviceaccount:demo:default` → (demo, default); nil for any other user name.
    static func split(_ userName: String) -> (namespace: String, name: String)? {
        guard userName.hasPrefix(prefix) else { return nil }
        let parts = userName.dropFirst(prefix.count).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return (String(parts[0]), String(parts[1]))
    }

    /// `system:serviceaccounts` and `system:serviceaccounts:<namespace>`.
    static func groups(namespace: String) -> [String] { [allGroup, "\(allGroup):\(namespace)"] }
}
