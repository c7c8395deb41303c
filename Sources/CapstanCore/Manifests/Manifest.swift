/// One Kubernetes object read from a manifest file, with where it came from.
public struct Manifest: Sendable {
    public var object: Unstructured
    /// The file, document and positions it was read from.
    public var source: YAMLDocument
    /// For an item of a `kind: List`, its index in `items`; positions then
    /// resolve inside that item.
    public var listIndex: Int?

    public init(object: Unstructured, source: YAMLDocument, listIndex: Int? = nil) {
        self.object = object
        self.source = source
        self.listIndex = listIndex
    }

    public var file: String { source.file }

    /// Where a field of this object was written (`spec.replicas` → its line).
    public func position(of path: FieldPath) -> SourcePosition {
        guard let listIndex else { return source.sourceMap.position(of: path) }
        return source.sourceMap.position(of: FieldPath([.field("items"), .index(listIndex)] + path.components))
    }

    /// The identity two manifests must not share: group, kind, namespace and name.
    public var identity: ObjectIdentity {
        ObjectIdentity(
            group: object.group, kind: object.kind, namespace: object.metadata.namespace ?? "",
            name: object.metadata.name)
    }
}

/// Names one object in a cluster: what server-side apply and pruning key on.
public struct ObjectIdentity: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var group: String
    public var kind: String
    public var namespace: String
    public var name: String

    public init(group: String, kind: String, namespace: String, name: String) {
        self.group = group
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    public var description: String {
        namespace.isEmpty ? "\(kind) \(name)" : "\(kind) \(namespace)/\(name)"
    }

    public static func < (lhs: ObjectIdentity, rhs: ObjectIdentity) -> Bool {
        (lhs.group, lhs.kind, lhs.namespace, lhs.name) < (rhs.group, rhs.kind, rhs.namespace, rhs.name)
    }
}

/// A problem with a manifest: `file:line:column: message`, naming the object when known.
public struct ManifestError: Error, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var position: SourcePosition
    /// `Deployment default/web`, when the problem belongs to one object.
    public var subject: String?
    public var message: String

    public init(file: String, position: SourcePosition, subject: String? = nil, message: String) {
        self.file = file
        self.position = position
        self.subject = subject
        self.message = message
    }

    public init(_ error: YAMLError) {
        self.init(file: error.file, position: error.position, message: error.message)
    }

    public var description: String {
        let prefix = "\(file):\(position): "
        guard let subject else { return prefix + message }
        return prefix + "\(subject): " + message
    }
}
