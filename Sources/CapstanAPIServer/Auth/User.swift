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

    package var description: String {
        switch self {
        case .admin: "admin"
        case .viewer: "viewer"
        case .node(let name): "node \(name)"
        }
    }
}

/// An authenticated caller: the name in messages and audit, and its role.
package struct User: Hashable, Sendable {
    package var name: String
    package var role: Role

    package init(name: String, role: Role) {
        self.name = name
        self.role = role
    }

    /// The user name Kubernetes gives a node's kubelet.
    package static func nodeUserName(_ node: String) -> String { "system:node:\(node)" }
}
