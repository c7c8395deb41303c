import OrderedCollections
import Synchronization

/// One node of a CustomResourceDefinition's `openAPIV3Schema`, parsed once
/// so that validating, defaulting and pruning objects never re-reads JSON.
///
/// A node is immutable and shared: the nodes under `allOf`/`anyOf`/`oneOf`/
/// `not` hold value validations only (that is what makes a schema structural).
final class SchemaNode: Sendable {
    /// The node's JSON as written, for the structural checks that look at which keys are present.
    let raw: JSONObject
    /// `object`, `array`, `string`, `integer`, `number`, `boolean`, or "" when absent.
    let type: String
    let format: String
    let nullable: Bool
    let intOrString: Bool
    let preserveUnknownFields: Bool
    let embeddedResource: Bool
    let properties: OrderedDictionary<String, SchemaNode>
    /// `additionalProperties` given as a schema: every value of the map follows it.
    let additionalProperties: SchemaNode?
    /// `additionalProperties: true` (or false), given as a boolean.
    let additionalPropertiesAllowed: Bool?
    let items: SchemaNode?
    let defaultValue: JSONValue?
    let listType: String?
    let listMapKeys: [String]
    let mapType: String?
    let rules: [ValidationRule]

    // Value validations.
    let enumValues: [JSONValue]?
    let minimum: Double?
    let maximum: Double?
    let exclusiveMinimum: Bool
    let exclusiveMaximum: Bool
    let multipleOf: Double?
    let minLength: Int64?
    let maxLength: Int64?
    let pattern: Pattern?
    let minItems: Int64?
    let maxItems: Int64?
    let uniqueItems: Bool
    let minProperties: Int64?
    let maxProperties: Int64?
    let required: [String]
    let allOf: [SchemaNode]
    let anyOf: [SchemaNode]
    let oneOf: [SchemaNode]
    let not: SchemaNode?

    /// A `pattern`, compiled when it is a valid regular expression.
    final class Pattern: Sendable {
        let source: String
        /// Unicode scalar semantics, as Go's RE2 matches runes, not grapheme clusters.
        /// Behind a lock because `Regex` is not `Sendable` (it compiles lazily).
        private let regex: Mutex<Regex<AnyRegexOutput>?>
        /// Why the pattern does not compile.
        let error: String?

        init(_ source: String) {
            self.source = source
            do {
                regex = Mutex(try Regex(source).matchingSemantics(.unicodeScalar))
                error = nil
            } catch {
                regex = Mutex(nil)
                self.error = "\(error)"
            }
        }

        /// Whether the pattern matches somewhere in `text` (JSON Schema patterns are not anchored).
        func matches(_ text: String) -> Bool {
            regex.withLock { regex in
                guard let regex else { return true }
                return (try? regex.firstMatch(in: text)) != nil
            }
        }
    }

    /// The deepest nesting of schema nodes accepted; real CRDs stay far below
    /// it (YAML manifests are capped at 100 levels of mappings).
    static let maxDepth = 128

    /// Parses `json` at `path`, adding what cannot be read at all to `errors`.
    init(_ json: JSONValue, path: FieldPath, depth: Int, errors: inout [FieldError]) {
        var reader = NodeReader(path: path)
        guard case .object(let object) = json else {
            errors.append(.invalid(path, .string(json.typeName), "must be an object"))
            raw = [:]
            type = ""
            format = ""
            nullable = false
            intOrString = false
            preserveUnknownFields = false
            embeddedResource = false
            properties = [:]
            additionalProperties = nil
            additionalPropertiesAllowed = nil
            items = nil
            defaultValue = nil
            listType = nil
            listMapKeys = []
            mapType = nil
            rules = []
            enumValues = nil
            minimum = nil
            maximum = nil
            exclusiveMinimum = false
            exclusiveMaximum = false
            multipleOf = nil
            minLength = nil
            maxLength = nil
            pattern = nil
            minItems = nil
            maxItems = nil
            uniqueItems = false
            minProperties = nil
            maxProperties = nil
            required = []
            allOf = []
            anyOf = []
            oneOf = []
            not = nil
            return
        }
        raw = object
        reader.object = object
        type = reader.string("type") ?? ""
        format = reader.string("format") ?? ""
        nullable = reader.bool("nullable") ?? false
        intOrString = reader.bool("x-kubernetes-int-or-string") ?? false
        preserveUnknownFields = reader.bool("x-kubernetes-preserve-unknown-fields") ?? false
        embeddedResource = reader.bool("x-kubernetes-embedded-resource") ?? false
        defaultValue = object["default"]
        listType = reader.string("x-kubernetes-list-type")
        listMapKeys = reader.strings("x-kubernetes-list-map-keys") ?? []
        mapType = reader.string("x-kubernetes-map-type")
        enumValues = reader.array("enum")
        minimum = reader.number("minimum")
        maximum = reader.number("maximum")
        exclusiveMinimum = reader.bool("exclusiveMinimum") ?? false
        exclusiveMaximum = reader.bool("exclusiveMaximum") ?? false
        multipleOf = reader.number("multipleOf")
        minLength = reader.integer("minLength")
        maxLength = reader.integer("maxLength")
        pattern = reader.string("pattern").map(Pattern.init)
        minItems = reader.integer("minItems")
        maxItems = reader.integer("maxItems")
        uniqueItems = reader.bool("uniqueItems") ?? false
        minProperties = reader.integer("minProperties")
        maxProperties = reader.integer("maxProperties")
        required = reader.strings("required") ?? []
        rules = reader.rules()

        let tooDeep = depth >= Self.maxDepth
        if tooDeep, object.keys.contains(where: Self.childKeys.contains) {
            reader.errors.append(.forbidden(path, "schemas may not nest deeper than \(Self.maxDepth) levels"))
        }
        var collected = reader.errors
        func child(_ json: JSONValue, _ childPath: FieldPath) -> SchemaNode {
            SchemaNode(json, path: childPath, depth: depth + 1, errors: &collected)
        }
        var properties = OrderedDictionary<String, SchemaNode>()
        if !tooDeep, let value = object["properties"] {
            if case .object(let members) = value {
                for (name, member) in members { properties[name] = child(member, path.child("properties").key(name)) }
            } else {
                collected.append(.invalid(path.child("properties"), .string(value.typeName), "must be an object"))
            }
        }
        self.properties = properties
        switch tooDeep ? nil : object["additionalProperties"] {
        case .bool(let allowed)?:
            additionalProperties = nil
            additionalPropertiesAllowed = allowed
        case let value?:
            additionalProperties = child(value, path.child("additionalProperties"))
            additionalPropertiesAllowed = nil
        case nil:
            additionalProperties = nil
            additionalPropertiesAllowed = nil
        }
        if !tooDeep, let value = object["items"] {
            if case .array = value {
                collected.append(.forbidden(path.child("items"), "items must be a schema object and not an array"))
                items = nil
            } else {
                items = child(value, path.child("items"))
            }
        } else {
            items = nil
        }
        func junctors(_ key: String) -> [SchemaNode] {
            guard !tooDeep, let value = object[key] else { return [] }
            guard case .array(let members) = value else {
                collected.append(.invalid(path.child(key), .string(value.typeName), "must be an array"))
                return []
            }
            return members.enumerated().map { child($1, path.child(key).index($0)) }
        }
        allOf = junctors("allOf")
        anyOf = junctors("anyOf")
        oneOf = junctors("oneOf")
        not = tooDeep ? nil : object["not"].map { child($0, path.child("not")) }
        errors += collected
    }

    /// Keys that hold further schema nodes.
    static let childKeys: Set<String> = ["properties", "additionalProperties", "items", "allOf", "anyOf", "oneOf", "not"]

    /// Whether the node's JSON type admits `value` (null aside).
    func admitsType(of value: JSONValue) -> Bool {
        if intOrString { return value.intValue != nil || value.stringValue != nil }
        switch type {
        case "object": return value.objectValue != nil
        case "array": return value.arrayValue != nil
        case "string": return value.stringValue != nil
        case "integer": return value.intValue != nil
        case "number": return value.doubleValue != nil
        case "boolean": return value.boolValue != nil
        default: return true
        }
    }

    /// The node's type as Kubernetes names it in messages.
    var typeDescription: String { intOrString ? "integer,string" : type }
}

/// Reads typed members of one schema node, recording the ones of the wrong JSON type.
private struct NodeReader {
    let path: FieldPath
    var errors: [FieldError] = []
    var object: JSONObject = [:]

    init(path: FieldPath) {
        self.path = path
    }

    mutating func wrongType(_ key: String, _ value: JSONValue, _ expected: String) {
        errors.append(.invalid(path.child(key), value, "must be \(expected)"))
    }

    mutating func string(_ key: String) -> String? {
        guard let value = object[key] else { return nil }
        guard let text = value.stringValue else {
            wrongType(key, value, "a string")
            return nil
        }
        return text
    }

    mutating func bool(_ key: String) -> Bool? {
        guard let value = object[key] else { return nil }
        guard let flag = value.boolValue else {
            wrongType(key, value, "a boolean")
            return nil
        }
        return flag
    }

    mutating func number(_ key: String) -> Double? {
        guard let value = object[key] else { return nil }
        guard let number = value.doubleValue else {
            wrongType(key, value, "a number")
            return nil
        }
        return number
    }

    mutating func integer(_ key: String) -> Int64? {
        guard let value = object[key] else { return nil }
        guard let number = value.intValue, number >= 0 else {
            wrongType(key, value, "a non-negative integer")
            return nil
        }
        return number
    }

    mutating func array(_ key: String) -> [JSONValue]? {
        guard let value = object[key] else { return nil }
        guard let members = value.arrayValue else {
            wrongType(key, value, "an array")
            return nil
        }
        return members
    }

    mutating func strings(_ key: String) -> [String]? {
        guard let members = array(key) else { return nil }
        var result: [String] = []
        for (index, member) in members.enumerated() {
            guard let text = member.stringValue else {
                errors.append(.invalid(path.child(key).index(index), member, "must be a string"))
                continue
            }
            result.append(text)
        }
        return result
    }

    mutating func rules() -> [ValidationRule] {
        guard let members = array("x-kubernetes-validations") else { return [] }
        var result: [ValidationRule] = []
        for (index, member) in members.enumerated() {
            let rulePath = path.child("x-kubernetes-validations").index(index)
            do throws(ValidationErrors) {
                result.append(try ValidationRule(member, path: rulePath))
            } catch {
                errors += error.errors
            }
        }
        return result
    }
}
