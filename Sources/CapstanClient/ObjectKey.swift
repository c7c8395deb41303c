public import CapstanCore

/// Names one object: `namespace/name`, or `name` for cluster-scoped kinds.
/// What informers index by and what work queues hold.
public struct ObjectKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var namespace: String?
    public var name: String

    public init(namespace: String?, name: String) {
        self.namespace = namespace.flatMap { $0.isEmpty ? nil : $0 }
        self.name = name
    }

    /// The key of an object, from its metadata.
    public init(_ object: some KubernetesObjectView) {
        let meta = object.metadata
        self.init(namespace: meta.namespace, name: meta.name)
    }

    public var description: String {
        if let namespace { "\(namespace)/\(name)" } else { name }
    }

    public static func < (lhs: ObjectKey, rhs: ObjectKey) -> Bool {
        (lhs.namespace ?? "", lhs.name) < (rhs.namespace ?? "", rhs.name)
    }
}
