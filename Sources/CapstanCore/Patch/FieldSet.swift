import OrderedCollections

/// A set of fields of an object, as server-side apply tracks ownership in
/// `metadata.managedFields` (the `FieldsV1` format): `f:name` for a field,
/// `k:{"name":"web"}` for an element of a keyed list, `v:"x"` for a member of
/// a set, with `.` marking a list element that is itself owned.
public struct FieldSet: Hashable, Sendable {
    public enum Element: Hashable, Sendable, Comparable {
        case field(String)
        /// A keyed list element, by its key fields (sorted by field name).
        case key([KeyField])
        /// A member of a set of scalars.
        case value(JSONValue)

        public struct KeyField: Hashable, Sendable, Comparable {
            public var name: String
            public var value: JSONValue
            public init(name: String, value: JSONValue) {
                self.name = name
                self.value = value
            }
            public static func < (lhs: KeyField, rhs: KeyField) -> Bool { lhs.name < rhs.name }
        }

        /// The FieldsV1 spelling: `f:spec`, `k:{"name":"web"}`, `v:"x"`.
        public var encoded: String {
            switch self {
            case .field(let name): return "f:" + name
            case .key(let fields):
                let object = JSONObject(uniqueKeysWithValues: fields.map { ($0.name, $0.value) })
                return "k:" + JSONSerializer.string(.object(object))
            case .value(let value): return "v:" + JSONSerializer.string(value)
            }
        }

        public static func < (lhs: Element, rhs: Element) -> Bool { lhs.encoded < rhs.encoded }
    }

    /// Whether the node itself is in the set (and not only some of its children).
    public var isMember = false
    public var children: [Element: FieldSet] = [:]

    public init() {}

    public var isEmpty: Bool { !isMember && children.isEmpty }

    /// Every member, as paths from the root.
    public var paths: [[Element]] {
        var result: [[Element]] = []
        func walk(_ set: FieldSet, _ prefix: [Element]) {
            if set.isMember, !prefix.isEmpty { result.append(prefix) }
            for (element, child) in set.children.sorted(by: { $0.key < $1.key }) { walk(child, prefix + [element]) }
        }
        walk(self, [])
        return result
    }

    public mutating func insert(_ path: [Element]) {
        guard let first = path.first else {
            isMember = true
            return
        }
        children[first, default: FieldSet()].insert(Array(path.dropFirst()))
    }

    public func contains(_ path: [Element]) -> Bool {
        guard let first = path.first else { return isMember }
        return children[first]?.contains(Array(path.dropFirst())) ?? false
    }

    public func union(_ other: FieldSet) -> FieldSet {
        var result = self
        result.isMember = isMember || other.isMember
        for (element, child) in other.children {
            result.children[element] = result.children[element].map { $0.union(child) } ?? child
        }
        return result
    }

    public func subtracting(_ other: FieldSet) -> FieldSet {
        var result = self
        if other.isMember { result.isMember = false }
        for (element, child) in other.children {
            guard let mine = result.children[element] else { continue }
            let remaining = mine.subtracting(child)
            result.children[element] = remaining.isEmpty ? nil : remaining
        }
        return result
    }

    public func intersection(_ other: FieldSet) -> FieldSet {
        var result = FieldSet()
        result.isMember = isMember && other.isMember
        for (element, child) in children {
            guard let theirs = other.children[element] else { continue }
            let common = child.intersection(theirs)
            if !common.isEmpty { result.children[element] = common }
        }
        return result
    }

    // MARK: FieldsV1

    /// The `fieldsV1` JSON of a managedFields entry.
    public var fieldsV1: JSONValue {
        var object = JSONObject()
        if isMember && !children.isEmpty { object["."] = .object([:]) }
        for (element, child) in children.sorted(by: { $0.key < $1.key }) {
            object[element.encoded] = child.fieldsV1
        }
        return .object(object)
    }

    /// Reads `fieldsV1` JSON back.
    public init(fieldsV1: JSONValue) throws(PatchError) {
        guard case .object(let object) = fieldsV1 else { throw PatchError("fieldsV1 must be an object") }
        isMember = object.isEmpty
        for (encoded, value) in object {
            if encoded == "." {
                isMember = true
                continue
            }
            let element: Element
            if encoded.hasPrefix("f:") {
                element = .field(String(encoded.dropFirst(2)))
            } else if encoded.hasPrefix("k:") {
                guard case .object(let fields) = try? JSONParser().parse(String(encoded.dropFirst(2))) else {
                    throw PatchError("invalid key \(encoded) in fieldsV1")
                }
                element = .key(fields.map { Element.KeyField(name: $0.key, value: $0.value) }.sorted())
            } else if encoded.hasPrefix("v:") {
                guard let value = try? JSONParser().parse(String(encoded.dropFirst(2))) else {
                    throw PatchError("invalid value \(encoded) in fieldsV1")
                }
                element = .value(value)
            } else {
                throw PatchError("unknown fieldsV1 entry \(encoded)")
            }
            children[element] = try FieldSet(fieldsV1: value)
        }
    }
}

extension FieldSet {
    /// Fields no manager owns: identity and server-set metadata.
    static let untracked: Set<String> = [
        "apiVersion", "kind",
    ]
    static let untrackedMetadata: Set<String> = [
        "name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
        "deletionGracePeriodSeconds", "managedFields", "selfLink",
    ]

    /// The fields `object` sets, as server-side apply counts them for an
    /// object of `kind`: every leaf value, each keyed-list element (with its
    /// key fields), each set member; atomic lists and selectors as one field.
    public init(of object: JSONValue, kind: String) {
        self.init()
        guard case .object(let root) = object else { return }
        for (key, value) in root where !Self.untracked.contains(key) {
            if key == "metadata", case .object(let metadata) = value {
                var metadataSet = FieldSet()
                for (field, member) in metadata where !Self.untrackedMetadata.contains(field) {
                    metadataSet.children[.field(field)] = FieldSet(value: member, kind: kind, path: "metadata." + field)
                }
                if !metadataSet.children.isEmpty { children[.field("metadata")] = metadataSet }
                continue
            }
            children[.field(key)] = FieldSet(value: value, kind: kind, path: key)
        }
    }

    init(value: JSONValue, kind: String, path: String) {
        self.init()
        switch value {
        case .object(let object) where !object.isEmpty && !MergeSchema.isAtomicObject(kind: kind, path: path):
            for (key, member) in object {
                children[.field(key)] = FieldSet(value: member, kind: kind, path: path + "." + key)
            }
        case .array(let elements) where !elements.isEmpty:
            switch MergeSchema.listType(kind: kind, path: path) {
            case .atomic:
                isMember = true
            case .set:
                for element in elements { children[.value(element), default: FieldSet()].isMember = true }
            case .map(let keys):
                for element in elements {
                    guard let keyElement = Self.keyElement(of: element, keys: keys) else {
                        isMember = true  // an element without its keys: own the list whole
                        continue
                    }
                    var child = FieldSet(value: element, kind: kind, path: path)
                    child.isMember = true
                    children[keyElement] = child
                }
            }
        default:
            isMember = true
        }
    }

    /// The `k:{…}` element for a keyed-list element. Keys default as
    /// Kubernetes defaults them (`protocol` is TCP).
    static func keyElement(of element: JSONValue, keys: [String]) -> Element? {
        var fields: [Element.KeyField] = []
        for key in keys {
            if let value = element[key] {
                fields.append(Element.KeyField(name: key, value: value))
            } else if key == "protocol" {
                fields.append(Element.KeyField(name: key, value: "TCP"))
            } else {
                return nil
            }
        }
        return .key(fields.sorted())
    }
}
