import OrderedCollections

/// Checks an object against its kind's Kubernetes schema the way Kubernetes
/// decodes a body into its Go types: a field the type does not have is an
/// *unknown field* (reported under strict field validation, dropped
/// otherwise), and a value of the wrong JSON type cannot be decoded at all.
///
/// `null` is accepted anywhere, as Go's decoder accepts it. Free-form parts
/// (`RawExtension`, `FieldsV1`, schemas marked
/// `x-kubernetes-preserve-unknown-fields`) are not looked into.
package struct SchemaCheck: Sendable {
    /// A value whose JSON type the field cannot hold.
    package struct TypeMismatch: Hashable, Sendable {
        package var path: FieldPath
        package var value: JSONValue
        /// The schema type the field wants (`integer`, `object`, `array`…).
        package var expected: String
        /// The Go type Kubernetes decodes into (`int32`, `v1.PodSpec`), for Kubernetes' wording.
        package var goType: String
        /// The Go struct holding the field (`DeploymentSpec`).
        package var structName: String
        /// A Secret's contents: never printed.
        package var isSecret = false

        /// Kubernetes' own words: `json: cannot unmarshal string into Go struct
        /// field DeploymentSpec.spec.replicas of type int32`.
        package var decodeMessage: String {
            let field = path.components.compactMap { component -> String? in
                if case .field(let name) = component { name } else { nil }
            }.joined(separator: ".")
            var got = Self.goKind(of: value)
            if case .double(let number) = value, !isSecret { got += " \(number)" }
            return "json: cannot unmarshal \(got) into Go struct field \(structName).\(field) of type \(goType)"
        }

        /// Capstan's words for a manifest: `expected integer, got string "3"`.
        package var manifestMessage: String {
            "expected \(expected), got \(value.typeName) " + (isSecret ? FieldError.show(FieldChecker.redactedSecret) : FieldError.show(value))
        }

        static func goKind(of value: JSONValue) -> String {
            switch value {
            case .string: "string"
            case .int, .double: "number"
            case .bool: "bool"
            case .array: "array"
            case .object: "object"
            case .null: "null"
            }
        }
    }

    /// What one check found, in document order.
    package struct Findings: Sendable {
        package var unknownFields: [FieldPath] = []
        package var typeMismatches: [TypeMismatch] = []

        package var isEmpty: Bool { unknownFields.isEmpty && typeMismatches.isEmpty }

        /// Both, as field errors at the offending fields, for manifests.
        package var fieldErrors: [FieldError] {
            unknownFields.map(FieldError.unknownField)
                + typeMismatches.map { FieldError(.typeMismatch, $0.path, value: $0.isSecret ? nil : $0.value, $0.manifestMessage) }
        }
    }

    /// The object as Kubernetes would store it: unknown fields dropped.
    package var pruned: JSONValue
    package var findings: Findings

    /// Checks `value` against the definition of its kind; nil when Kubernetes
    /// has no schema for that kind (custom resources are checked elsewhere).
    package init?(_ value: JSONValue, apiVersion: String, kind: String) {
        guard let name = KubernetesSchemas.definitionName(apiVersion: apiVersion, kind: kind) else { return nil }
        self.init(value, definition: name)
    }

    package init(_ value: JSONValue, definition: String) {
        var walker = Walker(secretContents: definition == "io.k8s.api.core.v1.Secret")
        pruned = walker.walk(value, .reference(definition), at: .root, structName: Self.shortName(definition))
        findings = walker.findings
    }

    /// `io.k8s.api.apps.v1.DeploymentSpec` → `DeploymentSpec`.
    static func shortName(_ definition: String) -> String {
        definition.split(separator: ".").last.map(String.init) ?? definition
    }

    /// `io.k8s.api.apps.v1.DeploymentSpec` → `v1.DeploymentSpec`, as Go prints a type.
    static func goName(_ definition: String) -> String {
        definition.split(separator: ".").suffix(2).joined(separator: ".")
    }
}

/// A schema to check against: a definition by name, or an inline node.
private enum SchemaRef {
    case reference(String)
    case inline(JSONObject)
}

private struct Walker {
    /// Whether the top-level `data` and `stringData` hold a Secret's contents.
    let secretContents: Bool
    var findings = SchemaCheck.Findings()

    /// The node a reference or `allOf: [{$ref}]` wrapper stands for, with the
    /// definition name when there is one (for Go type names).
    func resolve(_ ref: SchemaRef) -> (schema: JSONObject, definition: String?)? {
        switch ref {
        case .reference(let name):
            guard let schema = KubernetesSchemas.definitions[name] else { return nil }
            return (schema, name)
        case .inline(let node):
            if let target = node["$ref"]?.stringValue.flatMap(KubernetesSchemas.referencedName) { return resolve(.reference(target)) }
            if let target = node["allOf"]?[0]?["$ref"]?.stringValue.flatMap(KubernetesSchemas.referencedName) {
                return resolve(.reference(target))
            }
            return (node, nil)
        }
    }

    mutating func walk(_ value: JSONValue, _ ref: SchemaRef, at path: FieldPath, structName: String) -> JSONValue {
        guard !value.isNull, let (schema, definition) = resolve(ref) else { return value }
        let type = schema["type"]?.stringValue
        let format = schema["format"]?.stringValue
        switch (type, format) {
        case ("string", "int-or-string"):
            return expect(value, isInt: true, isString: true, "integer or string", goType: "intstr.IntOrString", path, structName)
        case ("string", "quantity"):
            return expect(value, isNumber: true, isString: true, "quantity", goType: "resource.Quantity", path, structName)
        case ("string", _):
            return expect(value, isString: true, "string", goType: "string", path, structName)
        case ("integer", _):
            return expect(value, isInt: true, "integer", goType: format ?? "int64", path, structName)
        case ("number", _):
            return expect(value, isNumber: true, "number", goType: "float64", path, structName)
        case ("boolean", _):
            return expect(value, isBool: true, "boolean", goType: "bool", path, structName)
        case ("array", _):
            guard case .array(let items) = value else {
                return mismatch(value, "array", goType: "[]" + goType(of: schema["items"]), path, structName)
            }
            guard let itemSchema = schema["items"]?.objectValue else { return value }
            return .array(items.enumerated().map { walk($1, .inline(itemSchema), at: path.index($0), structName: structName) })
        default:
            return walkObject(value, schema, definition: definition, at: path, structName: structName)
        }
    }

    private mutating func walkObject(_ value: JSONValue, _ schema: JSONObject, definition: String?, at path: FieldPath, structName: String)
        -> JSONValue
    {
        let properties = schema["properties"]?.objectValue
        let additional = schema["additionalProperties"]?.objectValue
        // No properties and no value schema: free-form (RawExtension, FieldsV1, JSON).
        guard properties != nil || additional != nil else { return value }
        guard case .object(let object) = value else {
            let goType = definition.map(SchemaCheck.goName) ?? "map[string]" + goType(of: schema["additionalProperties"])
            return mismatch(value, "object", goType: goType, path, structName)
        }
        let preserves = schema["x-kubernetes-preserve-unknown-fields"]?.boolValue == true
        let innerStruct = definition.map(SchemaCheck.shortName) ?? structName
        var result = JSONObject()
        result.reserveCapacity(object.count)
        for (key, child) in object {
            if let properties {
                if let property = properties[key]?.objectValue {
                    result[key] = walk(child, .inline(property), at: path.child(key), structName: innerStruct)
                } else if preserves {
                    result[key] = child
                } else {
                    findings.unknownFields.append(path.child(key))
                }
            } else if let additional {
                result[key] = walk(child, .inline(additional), at: path.key(key), structName: innerStruct)
            }
        }
        return .object(result)
    }

    private mutating func expect(
        _ value: JSONValue, isInt: Bool = false, isNumber: Bool = false, isString: Bool = false, isBool: Bool = false,
        _ expected: String, goType: String, _ path: FieldPath, _ structName: String
    ) -> JSONValue {
        let fits =
            switch value {
            case .int: isInt || isNumber
            case .double: isNumber || (isInt && value.intValue != nil)
            case .string: isString
            case .bool: isBool
            default: false
            }
        return fits ? value : mismatch(value, expected, goType: goType, path, structName)
    }

    private mutating func mismatch(_ value: JSONValue, _ expected: String, goType: String, _ path: FieldPath, _ structName: String) -> JSONValue {
        var mismatch = SchemaCheck.TypeMismatch(path: path, value: value, expected: expected, goType: goType, structName: structName)
        if secretContents, case .field(let top)? = path.components.first, top == "data" || top == "stringData" { mismatch.isSecret = true }
        findings.typeMismatches.append(mismatch)
        return value
    }

    /// The Go type a schema node decodes into, for messages (`v1.Container`, `string`).
    private func goType(of node: JSONValue?) -> String {
        guard let node = node?.objectValue, let (schema, definition) = resolve(.inline(node)) else { return "interface {}" }
        if let definition { return SchemaCheck.goName(definition) }
        switch schema["type"]?.stringValue {
        case "string": return "string"
        case "integer": return schema["format"]?.stringValue ?? "int64"
        case "number": return "float64"
        case "boolean": return "bool"
        case "array": return "[]" + goType(of: schema["items"])
        case "object": return "map[string]" + goType(of: schema["additionalProperties"])
        default: return "interface {}"
        }
    }
}
