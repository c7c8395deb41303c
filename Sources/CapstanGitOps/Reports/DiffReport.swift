package import CapstanCore

/// `POST /diff`: what applying a local, uncommitted tree would change.
/// `baseCommit` is `null` before the first apply.
package struct DiffReport: Codable, Sendable {
    /// One object the tree would change.
    package struct Change: Codable, Sendable, Equatable {
        package enum Action: String, Codable, Sendable {
            case create, update, prune
        }

        package var action: Action
        package var apiVersion: String
        package var kind: String
        package var namespace: String
        package var name: String
        /// The file of the tree (or, for a prune, of the inventory) the object comes from.
        package var file: String
        /// What an update changes; empty for a create or a prune.
        package var differences: [FieldDifference]

        init(_ action: Action, _ identity: ObjectIdentity, apiVersion: String, file: String, differences: [FieldDifference] = []) {
            self.action = action
            self.apiVersion = apiVersion
            self.kind = identity.kind
            self.namespace = identity.namespace
            self.name = identity.name
            self.file = file
            self.differences = differences
        }
    }

    /// The applied commit the tree is compared with.
    package var baseCommit: String?
    /// Render, policy and dry-run errors (with file:line); with render or
    /// policy errors nothing is compared and ``objects`` is empty.
    package var errors: [String]
    package var objects: [Change]
    /// How many objects of the tree already match the cluster.
    package var unchanged: Int

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(baseCommit, forKey: .baseCommit)
        try container.encode(errors, forKey: .errors)
        try container.encode(objects, forKey: .objects)
        try container.encode(unchanged, forKey: .unchanged)
    }
}
