import OrderedCollections

/// One version's `openAPIV3Schema` of a CustomResourceDefinition, parsed:
/// what the API server needs to check (``structuralErrors()``), default
/// (``defaulted(_:)``), prune (``pruned(_:)``) and validate
/// (``validate(_:old:rules:)``) custom resources, as
/// `k8s.io/apiextensions-apiserver` does.
///
/// Every error path is relative: schema findings to the schema (the caller
/// prefixes `spec.versions[i].schema.openAPIV3Schema`), object findings to
/// the object's root (`spec.secretName`).
package struct StructuralSchema: Sendable {
    let root: SchemaNode

    /// Parses a schema. Throws when part of it cannot be read at all (a
    /// `type` that is not a string, `properties` that is not an object, a
    /// rule without `rule`, nesting deeper than 128 schema levels); a schema
    /// that reads but breaks Kubernetes' rules parses, and says so in
    /// ``structuralErrors()``.
    package init(_ openAPIV3Schema: JSONValue) throws(ValidationErrors) {
        var errors: [FieldError] = []
        let root = SchemaNode(openAPIV3Schema, path: .root, depth: 0, errors: &errors)
        guard errors.isEmpty else { throw ValidationErrors(errors) }
        self.root = root
    }

    /// Why this schema is not structural or not allowed, by Kubernetes'
    /// rules; empty for a schema the API server accepts.
    package func structuralErrors() -> [FieldError] {
        var checker = StructuralChecker()
        checker.check(root, path: .root, place: .root)
        return checker.errors
    }
}

// MARK: - Defaulting

extension StructuralSchema {
    /// `object` with the schema's `default`s filled in where a field is
    /// absent, or null without being nullable, at every level (a default is
    /// itself defaulted further down); a null the schema neither allows nor
    /// defaults is dropped, as the API server drops it before validating.
    /// The root's `metadata` is left alone: it is ObjectMeta, not the schema's.
    package func defaulted(_ object: JSONValue) -> JSONValue {
        Self.defaulted(object, root, isResourceRoot: true)
    }

    static func defaulted(_ value: JSONValue, _ node: SchemaNode, isResourceRoot: Bool = false) -> JSONValue {
        switch value {
        case .object(var object):
            guard !node.properties.isEmpty || node.additionalProperties != nil else { return value }
            for (name, property) in node.properties {
                if isResourceRoot, name == "metadata" { continue }
                let current = object[name]
                if current == nil || (current == .null && !property.nullable) {
                    if let fallback = property.defaultValue {
                        object[name] = fallback
                    } else if current != nil {
                        object[name] = nil  // a null the field cannot hold, with nothing to replace it
                    }
                }
            }
            for (key, member) in object {
                if isResourceRoot, key == "metadata" || key == "apiVersion" || key == "kind" { continue }
                guard let child = node.properties[key] ?? node.additionalProperties else { continue }
                if member == .null {
                    if !child.nullable, node.properties[key] == nil { object[key] = child.defaultValue ?? nil }
                    continue
                }
                object[key] = defaulted(member, child)
            }
            return .object(object)
        case .array(var elements):
            guard let items = node.items else { return value }
            for index in elements.indices {
                if elements[index] == .null, !items.nullable, let fallback = items.defaultValue { elements[index] = fallback }
                elements[index] = defaulted(elements[index], items)
            }
            return .array(elements)
        default:
            return value
        }
    }
}

// MARK: - Pruning

extension StructuralSchema {
    /// What pruning kept, and where it dropped fields.
    package struct Pruned: Sendable {
        package var object: JSONValue
        /// Paths of the dropped fields from the root (`spec.foo`, `spec.items[0].bar`), in document order:
        /// `unknown field "spec.foo"` under fieldValidation=Strict, a warning under Warn.
        package var unknownFields: [FieldPath]
    }

    /// Drops every field the schema does not declare, except under
    /// `x-kubernetes-preserve-unknown-fields: true`. `apiVersion`, `kind` and
    /// `metadata` are kept at the root and in every
    /// `x-kubernetes-embedded-resource` (metadata is ObjectMeta, pruned by
    /// its own type, not by this schema).
    package func pruned(_ object: JSONValue) -> Pruned {
        var unknown: [FieldPath] = []
        let result = Self.pruned(object, root, path: .root, isResource: true, unknown: &unknown)
        return Pruned(object: result, unknownFields: unknown)
    }

    static let resourceFields: Set<String> = ["apiVersion", "kind", "metadata"]

    static func pruned(_ value: JSONValue, _ node: SchemaNode, path: FieldPath, isResource: Bool, unknown: inout [FieldPath]) -> JSONValue {
        switch value {
        case .object(let object):
            if node.intOrString { return value }
            var result = JSONObject()
            result.reserveCapacity(object.count)
            for (key, member) in object {
                if isResource, resourceFields.contains(key), node.properties[key] == nil || key == "metadata" {
                    result[key] = member
                } else if let property = node.properties[key] {
                    result[key] = pruned(member, property, path: path.child(key), isResource: property.embeddedResource, unknown: &unknown)
                } else if let values = node.additionalProperties {
                    result[key] = pruned(member, values, path: path.child(key), isResource: values.embeddedResource, unknown: &unknown)
                } else if node.preserveUnknownFields || node.additionalPropertiesAllowed == true {
                    result[key] = member
                } else {
                    unknown.append(path.child(key))
                }
            }
            return .object(result)
        case .array(let elements):
            guard let items = node.items else { return value }
            var result: [JSONValue] = []
            result.reserveCapacity(elements.count)
            for (index, element) in elements.enumerated() {
                result.append(pruned(element, items, path: path.index(index), isResource: items.embeddedResource, unknown: &unknown))
            }
            return .array(result)
        default:
            return value
        }
    }
}

// MARK: - Server-side apply

extension StructuralSchema: MergeSchema.CustomRules {
    /// The node a server-side apply path names: field names joined by dots,
    /// list positions left out, map keys included (`spec.ports.name`).
    func node(atMergePath path: String) -> SchemaNode? {
        var node = root
        guard !path.isEmpty else { return node }
        for name in path.split(separator: ".", omittingEmptySubsequences: false) {
            while let items = node.items, node.type == "array" { node = items }
            guard let next = node.properties[String(name)] ?? node.additionalProperties else { return nil }
            node = next
        }
        return node
    }

    /// The list type `x-kubernetes-list-type` declares for the list at `path`; nil where the schema says
    /// nothing (Kubernetes then treats the list as atomic).
    package func listType(atMergePath path: String) -> MergeSchema.ListType? {
        guard let node = node(atMergePath: path), node.type == "array" else { return nil }
        switch node.listType {
        case "set": return .set
        case "map": return .map(keys: node.listMapKeys)
        case "atomic": return .atomic
        default: return nil
        }
    }

    /// Whether `x-kubernetes-map-type: atomic` makes the object at `path` one value.
    package func isAtomicObject(atMergePath path: String) -> Bool {
        node(atMergePath: path)?.mapType == "atomic"
    }

    /// Every list the schema gives a list type, keyed by merge path (`spec.ports`), for inspection and tests.
    package var listTypes: [String: MergeSchema.ListType] {
        var result: [String: MergeSchema.ListType] = [:]
        var pending: [(SchemaNode, String)] = [(root, "")]
        while let (node, path) = pending.popLast() {
            if let type = listType(atMergePath: path), node.listType != nil { result[path] = type }
            var container = node
            while let items = container.items, container.type == "array" { container = items }
            for (name, property) in container.properties { pending.append((property, path.isEmpty ? name : path + "." + name)) }
        }
        return result
    }
}

// MARK: - Validation

extension StructuralSchema {
    /// The deepest nesting of objects and lists `validate` looks at: as deep
    /// as Capstan's JSON parser reads, so anything a client can send.
    package static let maxValueDepth = 256

    /// Every way `object` breaks the schema, with Kubernetes' messages:
    /// types (`nullable`, `x-kubernetes-int-or-string`, formats int32 and
    /// date-time, date, uuid, byte), `enum`, bounds, `multipleOf`, lengths in
    /// characters, `pattern`, item and property counts, `required`,
    /// `allOf`/`anyOf`/`oneOf`/`not`, duplicates in `set` and `map` lists,
    /// `apiVersion`/`kind` of embedded resources. For every node with
    /// `x-kubernetes-validations`, `rules` gets the node's rules, value, the
    /// matching part of `old` (nil on create or when there is none) and path.
    /// Objects nested deeper than ``maxValueDepth`` are refused whole.
    package func validate(_ object: JSONValue, old: JSONValue?, rules: RuleHook? = nil) -> [FieldError] {
        if Self.nestingExceeds(object, Self.maxValueDepth) || old.map({ Self.nestingExceeds($0, Self.maxValueDepth) }) == true {
            return [.forbidden(.root, "objects may not nest deeper than \(Self.maxValueDepth) levels")]
        }
        var validator = ValueValidator(rules: rules)
        validator.validate(object, root, old: old, path: .root, isResourceRoot: true)
        return validator.errors
    }

    /// Whether `value` nests objects and lists more than `limit` deep, found without recursion.
    static func nestingExceeds(_ value: JSONValue, _ limit: Int) -> Bool {
        var pending: [(JSONValue, Int)] = [(value, 0)]
        while let (current, depth) = pending.popLast() {
            switch current {
            case .object(let object):
                if depth >= limit { return true }
                for member in object.values { pending.append((member, depth + 1)) }
            case .array(let elements):
                if depth >= limit { return true }
                for element in elements { pending.append((element, depth + 1)) }
            default:
                break
            }
        }
        return false
    }
}
