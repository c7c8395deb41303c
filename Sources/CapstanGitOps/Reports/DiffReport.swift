public import CapstanCore

/// `POST /diff`: what applying a local, uncommitted tree would change.
/// `baseCommit` is `null` before the first apply.
public struct DiffReport: Codable, Sendable {
    /// One object the tree would change.
    public struct Change: Codable, Sendable, Equatable {
        public enum Action: String, Codable, Sendable {
            case create, update, prune
        }

        public var action: Action
        public var apiVersion: String
        public var kind: String
        public var namespace: String
        public var name: String
        /// The file of the tree (or, for a prune, of the inventory) the object comes from.
        public var file: String
        /// What an update changes; empty for a create or a prune.
        public var differences: [FieldDifference]

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
    public var baseCommit: String?
    /// Render, policy and dry-run errors (with file:line); with render or
    /// policy errors nothing is compared and ``objects`` is empty.
    public var errors: [String]
    public var objects: [Change]
    /// How many objects of the tree already match the cluster.
    public var unchanged: Int

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(baseCommit, forKey: .baseCommit)
        try container.encode(errors, forKey: .errors)
        try container.encode(objects, forKey: .objects)
        try container.encode(unchanged, forKey: .unchanged)
    }
}
