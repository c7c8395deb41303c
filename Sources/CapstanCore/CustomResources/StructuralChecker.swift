import OrderedCollections

/// Kubernetes' rules for a CustomResourceDefinition schema
/// (`apiextensions-apiserver/pkg/apiserver/schema` and the CRD validation):
/// every node says its type, no `$ref`, `allOf`/`anyOf`/`oneOf`/`not` hold
/// value validations only, the root's `metadata` restricts at most `name` and
/// `generateName`, list and map markers are consistent, patterns compile and
/// defaults are valid, pruned values.
struct StructuralChecker {
    /// Where a node sits, which changes what it must say.
    enum Place {
        case root
        case property
        case items
        case additionalProperties
        /// Inside the root's `metadata`.
        case metadata
    }

    static let types = ["array", "boolean", "integer", "number", "object", "string"]
    static let scalarTypes: Set<String> = ["boolean", "integer", "number", "string"]

    var errors: [FieldError] = []

    /// Checks `node` at `path` in the schema; `valuePath` is where its values sit in objects
    /// (`spec.replicas`), which is how Kubernetes names a field whose default is wrong.
    mutating func check(_ node: SchemaNode, path: FieldPath, place: Place, valuePath: FieldPath = .root) {
        checkCommon(node, path: path)
        switch place {
        case .root:
            if node.type != "object" {
                errors.append(.invalid(path.child("type"), .string(node.type), "must be object at the root"))
            }
            if node.nullable { errors.append(.forbidden(path.child("nullable"), "must be false at the root")) }
            if node.embeddedResource {
                errors.append(.forbidden(path.child("x-kubernetes-embedded-resource"), "must be false at the root"))
            }
            if node.intOrString { errors.append(.forbidden(path.child("x-kubernetes-int-or-string"), "must be false at the root")) }
            if let metadata = node.properties["metadata"] { checkRootMetadata(metadata, path: path.child("properties").key("metadata")) }
        case .metadata:
            break
        case .property, .items, .additionalProperties:
            if node.type.isEmpty && !node.intOrString && !node.preserveUnknownFields {
                let detail = place == .items ? "must not be empty for specified array items" : "must not be empty for specified object fields"
                errors.append(.required(path.child("type"), detail))
            }
        }
        if !node.type.isEmpty, !Self.types.contains(node.type) {
            errors.append(.notSupported(path.child("type"), .string(node.type), supported: Self.types))
        }
        if node.intOrString, !node.type.isEmpty {
            errors.append(.invalid(path.child("type"), .string(node.type), "must be empty if x-kubernetes-int-or-string is true"))
        }
        if node.raw["x-kubernetes-preserve-unknown-fields"] == .bool(false) {
            errors.append(.invalid(path.child("x-kubernetes-preserve-unknown-fields"), false, "must be true or undefined"))
        }
        if node.embeddedResource {
            if node.type != "object" {
                errors.append(.invalid(path.child("type"), .string(node.type), "must be object if x-kubernetes-embedded-resource is true"))
            }
            if node.properties.isEmpty && !node.preserveUnknownFields {
                errors.append(
                    .required(
                        path.child("x-kubernetes-preserve-unknown-fields"),
                        "must be true if x-kubernetes-embedded-resource is true and properties are empty"))
            }
        }
        if !node.properties.isEmpty, node.additionalProperties != nil || node.additionalPropertiesAllowed != nil {
            errors.append(.forbidden(path.child("additionalProperties"), "additionalProperties and properties are mutually exclusive"))
        }
        if node.type == "array", node.items == nil { errors.append(.required(path.child("items"), "must be specified")) }
        if !node.type.isEmpty, node.type != "object", !node.properties.isEmpty {
            errors.append(.forbidden(path.child("properties"), "must be empty for type \(node.type)"))
        }
        checkListMarkers(node, path: path)
        if let fallback = node.defaultValue { checkDefault(fallback, node, path: path, place: place, valuePath: valuePath) }

        for (name, property) in node.properties {
            let childPlace: Place = place == .metadata || (place == .root && name == "metadata") ? .metadata : .property
            check(property, path: path.child("properties").key(name), place: childPlace, valuePath: valuePath.child(name))
        }
        if let items = node.items { check(items, path: path.child("items"), place: .items, valuePath: valuePath) }
        if let values = node.additionalProperties {
            check(values, path: path.child("additionalProperties"), place: .additionalProperties, valuePath: valuePath)
        }
        checkJunctors(of: node, structural: node, path: path)
    }

    /// Rules every node follows, in the structural part and in junctors alike.
    mutating func checkCommon(_ node: SchemaNode, path: FieldPath) {
        if node.raw["$ref"] != nil { errors.append(.forbidden(path.child("$ref"), "$ref is not supported")) }
        if node.uniqueItems {
            errors.append(.forbidden(path.child("uniqueItems"), "uniqueItems cannot be set to true since the runtime complexity becomes quadratic"))
        }
        if let pattern = node.pattern, let problem = pattern.error {
            errors.append(.invalid(path.child("pattern"), .string(pattern.source), "must be a valid regular expression, but isn't: \(problem)"))
        }
        if node.raw["additionalItems"] != nil { errors.append(.forbidden(path.child("additionalItems"), "additionalItems is not supported")) }
        if node.raw["patternProperties"] != nil {
            errors.append(.forbidden(path.child("patternProperties"), "patternProperties is not supported"))
        }
        if node.raw["dependencies"] != nil { errors.append(.forbidden(path.child("dependencies"), "dependencies is not supported")) }
        for (index, rule) in node.rules.enumerated() {
            let at = path.child("x-kubernetes-validations").index(index)
            do {
                _ = try CELProgram(rule.rule)
            } catch {
                errors.append(.invalid(at.child("rule"), .string(rule.rule), "compilation failed: \(error)"))
            }
            if let expression = rule.messageExpression {
                do {
                    _ = try CELProgram(expression)
                } catch {
                    errors.append(.invalid(at.child("messageExpression"), .string(expression), "messageExpression compilation failed: \(error)"))
                }
            }
        }
    }

    /// The root's `metadata` is ObjectMeta; a schema may only narrow `name` and `generateName` (string value validations).
    mutating func checkRootMetadata(_ metadata: SchemaNode, path: FieldPath) {
        if !metadata.type.isEmpty, metadata.type != "object" {
            errors.append(.invalid(path.child("type"), .string(metadata.type), "must be object"))
        }
        let allowed: Set<String> = ["type", "properties", "description"]
        let extraKeys = metadata.raw.keys.filter { !allowed.contains($0) }
        let extraProperties = metadata.properties.keys.filter { $0 != "name" && $0 != "generateName" }
        if !extraKeys.isEmpty || !extraProperties.isEmpty {
            errors.append(.forbidden(path, "must not specify anything other than name and generateName, but metadata is implicitly specified"))
        }
        for name in ["name", "generateName"] {
            guard let field = metadata.properties[name] else { continue }
            let fieldPath = path.child("properties").key(name)
            if field.type != "string" { errors.append(.invalid(fieldPath.child("type"), .string(field.type), "must be string")) }
            if field.defaultValue != nil { errors.append(.forbidden(fieldPath.child("default"), "must not be set inside metadata")) }
        }
    }

    mutating func checkListMarkers(_ node: SchemaNode, path: FieldPath) {
        let listTypePath = path.child("x-kubernetes-list-type")
        if let listType = node.listType {
            if node.type != "array" {
                errors.append(.invalid(listTypePath, .string(listType), "must only be used on type array"))
            }
            switch listType {
            case "atomic":
                break
            case "set":
                if let items = node.items, !Self.scalarTypes.contains(items.type), items.mapType != "atomic", items.listType != "atomic",
                    !items.intOrString
                {
                    errors.append(
                        .invalid(
                            path.child("items").child("type"), .string(items.type),
                            "must be a scalar type or atomic if parent array's x-kubernetes-list-type is set"))
                }
            case "map":
                checkListMapKeys(node, path: path)
            default:
                errors.append(.notSupported(listTypePath, .string(listType), supported: ["atomic", "set", "map"]))
            }
        }
        if !node.listMapKeys.isEmpty, node.listType != "map" {
            errors.append(.forbidden(path.child("x-kubernetes-list-map-keys"), "must only be used if x-kubernetes-list-type is \"map\""))
        }
        if let mapType = node.mapType {
            if !["granular", "atomic"].contains(mapType) {
                errors.append(.notSupported(path.child("x-kubernetes-map-type"), .string(mapType), supported: ["granular", "atomic"]))
            } else if node.type != "object" {
                errors.append(.invalid(path.child("x-kubernetes-map-type"), .string(mapType), "must only be used on type object"))
            }
        }
    }

    mutating func checkListMapKeys(_ node: SchemaNode, path: FieldPath) {
        let keysPath = path.child("x-kubernetes-list-map-keys")
        guard !node.listMapKeys.isEmpty else {
            errors.append(.required(keysPath, "must not be empty if x-kubernetes-list-type is map"))
            return
        }
        guard let items = node.items else { return }
        if items.type != "object" {
            errors.append(
                .invalid(path.child("items").child("type"), .string(items.type), "must be object if parent array's x-kubernetes-list-type is map"))
            return
        }
        var seen: Set<String> = []
        for (index, key) in node.listMapKeys.enumerated() {
            guard seen.insert(key).inserted else {
                errors.append(.duplicate(keysPath.index(index), .string(key)))
                continue
            }
            let keyPath = path.child("items").child("properties").key(key)
            guard let property = items.properties[key] else {
                errors.append(.invalid(keysPath, .array(node.listMapKeys.map(JSONValue.string)), "entries must all be names of item properties"))
                continue
            }
            if !Self.scalarTypes.contains(property.type) && !property.intOrString {
                errors.append(
                    .invalid(keyPath.child("type"), .string(property.type), "must be a scalar type if parent array's x-kubernetes-list-type is map"))
            }
            if !items.required.contains(key) && property.defaultValue == nil {
                errors.append(.required(keyPath, "must be required or have a default value if parent array's x-kubernetes-list-type is map"))
            }
        }
    }

    /// A default must be a value the node accepts and keeps: it validates, and pruning it drops nothing.
    mutating func checkDefault(_ fallback: JSONValue, _ node: SchemaNode, path: FieldPath, place: Place, valuePath: FieldPath) {
        let defaultPath = path.child("default")
        if place == .metadata {
            errors.append(.forbidden(defaultPath, "must not be set inside metadata"))
            return
        }
        if place == .root {
            errors.append(.forbidden(defaultPath, "must not be set at the root"))
            return
        }
        if fallback == .null, !node.nullable {
            errors.append(.invalid(defaultPath, fallback, "must not be null for a field that is not nullable"))
            return
        }
        var unknown: [FieldPath] = []
        _ = StructuralSchema.pruned(fallback, node, path: .root, isResource: node.embeddedResource, unknown: &unknown)
        if !unknown.isEmpty {
            let names = unknown.map { "\"\($0)\"" }.joined(separator: ", ")
            errors.append(.invalid(defaultPath, fallback, "must not have unknown fields: \(names)"))
        }
        var validator = ValueValidator(rules: nil)
        validator.validate(fallback, node, old: nil, path: valuePath)
        let prefixLength = valuePath.components.count
        for var error in validator.errors {
            error.path = FieldPath(defaultPath.components + error.path.components.dropFirst(prefixLength))
            errors.append(error)
        }
    }

    /// `allOf`, `anyOf`, `oneOf` and `not` may only add value validations to what the structural part declares.
    mutating func checkJunctors(of node: SchemaNode, structural: SchemaNode?, path: FieldPath) {
        var branches: [(SchemaNode, FieldPath)] = []
        for (key, members) in [("allOf", node.allOf), ("anyOf", node.anyOf), ("oneOf", node.oneOf)] {
            for (index, member) in members.enumerated() { branches.append((member, path.child(key).index(index))) }
        }
        if let not = node.not { branches.append((not, path.child("not"))) }
        for (branch, branchPath) in branches {
            checkValueValidation(branch, structural: structural, path: branchPath, intOrStringBranch: node.intOrString && node === structural)
        }
    }

    static let forbiddenInJunctors = [
        "type", "default", "nullable", "description", "title", "additionalProperties", "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-embedded-resource", "x-kubernetes-int-or-string", "x-kubernetes-list-type", "x-kubernetes-list-map-keys",
        "x-kubernetes-map-type", "x-kubernetes-validations",
    ]

    /// `intOrStringBranch`: a direct branch of an `x-kubernetes-int-or-string` node, which may say
    /// `type: integer` or `type: string` (the `anyOf: [{type: integer}, {type: string}]` that generators write).
    mutating func checkValueValidation(_ node: SchemaNode, structural: SchemaNode?, path: FieldPath, intOrStringBranch: Bool = false) {
        checkCommon(node, path: path)
        for key in Self.forbiddenInJunctors where node.raw[key] != nil {
            if intOrStringBranch, key == "type", node.type == "integer" || node.type == "string" { continue }
            errors.append(.forbidden(path.child(key), "must be empty to be structural"))
        }
        for (name, property) in node.properties {
            let counterpart = structural?.properties[name] ?? structural?.additionalProperties
            if counterpart == nil && structural?.preserveUnknownFields != true {
                errors.append(.forbidden(path.child("properties").key(name), "must only name properties the structural schema specifies"))
            }
            checkValueValidation(property, structural: counterpart, path: path.child("properties").key(name))
        }
        if let items = node.items { checkValueValidation(items, structural: structural?.items, path: path.child("items")) }
        checkJunctors(of: node, structural: structural, path: path)
    }
}
