/// What a token lets its bearer do. The three roles follow Kubernetes'
/// built-in ones: `cluster-admin`, `view`, and the node authorizer's
/// `system:node:<name>` (see docs/security.md for the exact rules).
package enum Role: Hashable, Sendable, CustomStringConvertible {
    /// Everything.
    case admin
    /// get, list and watch on everything except Secrets.
    case viewer
    /// What the node agent of the named node needs, and writes to that node's own objects only.
    case node(String)
    /// Nothing built in: only what RBAC bindings grant the user and its groups
    /// (service accounts, impersonated users).
    case rbacOnly

    package var description: String {
        switch self {
        case .admin: "admin"
        case .viewer: "viewer"
        case .node(let name): "node \(name)"
        case .rbacOnly: "rbac"
        }
    }
}

/// An authenticated caller: the name in messages and audit, its groups (what
/// RBAC bindings name besides users), and its built-in role.
package struct User: Hashable, Sendable {
    package var name: String
    package var role: Role
    /// Always holds `system:authenticated`; an admin is in `system:masters`
    /// and a node in `system:nodes`, as in Kubernetes.
    package var groups: [String]

    /// A user of a built-in role, in that role's groups.
    package init(name: String, role: Role) {
        self.init(name: name, role: role, groups: Self.groups(of: role))
    }

    package init(name: String, role: Role, groups: [String]) {
        self.name = name
        self.role = role
        self.groups = groups.contains(Self.authenticatedGroup) ? groups : groups + [Self.authenticatedGroup]
    }

    package static let authenticatedGroup = "system:authenticated"
    /// The group Kubernetes never refuses anything.
    package static let mastersGroup = "system:masters"

    static func groups(of role: Role) -> [String] {
        switch role {
        case .admin: [mastersGroup, authenticatedGroup]
        case .node: ["system:nodes", authenticatedGroup]
        case .viewer, .rbacOnly: [authenticatedGroup]
        }
    }

    /// The user name Kubernetes gives a node's kubelet.
    package static func nodeUserName(_ node: String) -> String { "system:node:\(node)" }
}
