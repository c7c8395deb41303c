import CapstanCore
import CapstanProtobuf
import OrderedCollections

/// Why a Swagger 2.0 document could not be encoded: where in the document
/// (`$.definitions["io.k8s.api.core.v1.Pod"].properties["spec"].type`) and
/// what was wrong there.
struct OpenAPIV2EncodingError: Error, Equatable, CustomStringConvertible {
    let path: String
    let reason: String

    var description: String { "cannot encode the OpenAPI v2 document at \(path): \(reason)" }
}

/// Encodes a Swagger 2.0 document as the protobuf message kubectl asks
/// `/openapi/v2` for (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`):
/// gnostic's `openapi.v2.Document` (github.com/google/gnostic-models,
/// `openapiv2/OpenAPIv2.proto`), which client-go decodes with `proto.Unmarshal`.
///
/// Every object of Swagger 2.0 is covered, mapped the way gnostic's
/// `ParseDocument` maps the JSON form: maps become ordered lists of
/// `Named…` pairs, `$ref` is the field `_ref`, a parameter's `in` picks its
/// message (`body` or one of the non-body kinds), `additionalProperties` is
/// a schema or a boolean, and free-form values (`default`, `enum`, `example`
/// and every `x-…` vendor extension) are `Any` messages whose `yaml` holds
/// the value as YAML text. Scalars are written as gnostic writes them (a plain
/// `name`, or quoted when YAML would read it as something else); objects and
/// arrays as JSON flow text, which any YAML parser reads back the same.
///
/// A document is checked while it is encoded: a member Swagger 2.0 does not
/// define (other than `x-…`), a value of the wrong JSON type, a missing
/// required member or a non-finite number throws ``OpenAPIV2EncodingError``
/// naming the place, so nothing is silently dropped.
enum OpenAPIV2Protobuf {
    static func encode(_ document: JSONValue) throws -> [UInt8] {
        try Shapes.document.encode(document, at: "$")
    }
}

// MARK: - Messages as tables of fields

/// Writes one JSON member as one or more protobuf fields.
private typealias FieldWriter = @Sendable (inout WireWriter, JSONValue, String) throws -> Void

/// Encodes one JSON value as the bytes of a whole message.
private typealias MessageEncoder = @Sendable (JSONValue, String) throws -> [UInt8]

private struct Field: Sendable {
    let key: String
    let write: FieldWriter
}

/// A protobuf message read from a JSON object member by member: the fields
/// in field-number order, the members that must be present, and where the
/// `x-…` vendor extensions go (`nil` where the message has none).
private struct MessageShape: Sendable {
    let name: String
    let fields: [Field]
    var required: [String] = []
    let vendorExtensions: Int?

    func encode(_ value: JSONValue, at path: String) throws -> [UInt8] {
        let object = try expectObject(value, at: path, for: name)
        for key in object.keys where !(vendorExtensions != nil && key.hasPrefix("x-")) {
            guard fields.contains(where: { $0.key == key }) else {
                throw OpenAPIV2EncodingError(path: path, reason: "\(name) has no member \"\(key)\"")
            }
        }
        for key in required where object[key] == nil {
            throw OpenAPIV2EncodingError(path: path, reason: "\(name) requires \"\(key)\"")
        }
        var writer = WireWriter()
        for field in fields {
            if let member = object[field.key] { try field.write(&writer, member, memberPath(path, field.key)) }
        }
        if let vendorExtensions {
            for (key, member) in object where key.hasPrefix("x-") {
                writer.bytesField(vendorExtensions, try namedAny(key, member, at: entry(path, key)))
            }
        }
        return writer.bytes
    }

    private func memberPath(_ path: String, _ key: String) -> String {
        key.hasPrefix("$") ? entry(path, key) : "\(path).\(key)"
    }
}

private func entry(_ path: String, _ key: String) -> String {
    "\(path)[\(JSONSerializer.string(.string(key)))]"
}

private func expectObject(_ value: JSONValue, at path: String, for name: String) throws -> JSONObject {
    guard let object = value.objectValue else {
        throw OpenAPIV2EncodingError(path: path, reason: "\(name) must be an object, got \(value.typeName)")
    }
    return object
}

private func expectArray(_ value: JSONValue, at path: String) throws -> [JSONValue] {
    guard let array = value.arrayValue else {
        throw OpenAPIV2EncodingError(path: path, reason: "expected an array, got \(value.typeName)")
    }
    return array
}

private func expectString(_ value: JSONValue, at path: String) throws -> String {
    guard let string = value.stringValue else {
        throw OpenAPIV2EncodingError(path: path, reason: "expected a string, got \(value.typeName)")
    }
    return string
}

// MARK: - Field kinds
//
// Scalars leave out proto3 defaults (empty string, false, zero) as every
// protobuf encoder does; the decoded message is the same either way.

private func string(_ key: String, _ number: Int) -> Field {
    Field(key: key) { writer, value, path in
        let text = try expectString(value, at: path)
        if !text.isEmpty { writer.stringField(number, text) }
    }
}

private func bool(_ key: String, _ number: Int) -> Field {
    Field(key: key) { writer, value, path in
        guard let flag = value.boolValue else {
            throw OpenAPIV2EncodingError(path: path, reason: "expected a boolean, got \(value.typeName)")
        }
        if flag { writer.boolField(number, true) }
    }
}

private func double(_ key: String, _ number: Int) -> Field {
    Field(key: key) { writer, value, path in
        guard let figure = value.doubleValue else {
            throw OpenAPIV2EncodingError(path: path, reason: "expected a number, got \(value.typeName)")
        }
        guard figure.isFinite else { throw OpenAPIV2EncodingError(path: path, reason: "\(figure) is not a finite number") }
        if figure != 0 { writer.doubleField(number, figure) }
    }
}

private func int64(_ key: String, _ number: Int) -> Field {
    Field(key: key) { writer, value, path in
        guard let figure = value.intValue else {
            throw OpenAPIV2EncodingError(path: path, reason: "expected an integer, got \(value.typeName)")
        }
        if figure != 0 { writer.int64Field(number, figure) }
    }
}

private func strings(_ key: String, _ number: Int) -> Field {
    Field(key: key) { writer, value, path in
        for (index, element) in try expectArray(value, at: path).enumerated() {
            writer.stringField(number, try expectString(element, at: "\(path)[\(index)]"))
        }
    }
}

private func message(_ key: String, _ number: Int, _ encoder: @escaping MessageEncoder) -> Field {
    Field(key: key) { writer, value, path in writer.bytesField(number, try encoder(value, path)) }
}

private func messages(_ key: String, _ number: Int, _ encoder: @escaping MessageEncoder) -> Field {
    Field(key: key) { writer, value, path in
        for (index, element) in try expectArray(value, at: path).enumerated() {
            writer.bytesField(number, try encoder(element, "\(path)[\(index)]"))
        }
    }
}

private func any(_ key: String, _ number: Int) -> Field { message(key, number, anyMessage) }

private func anys(_ key: String, _ number: Int) -> Field { messages(key, number, anyMessage) }

/// The shape, looked up when a value is encoded: shapes refer to each other
/// (and `Schema` to itself), so they cannot all exist when one is built.
private func shape(_ shape: @escaping @Sendable () -> MessageShape) -> MessageEncoder {
    { value, path in try shape().encode(value, at: path) }
}

/// A JSON object whose every member becomes one `Named…` message (`name` = 1,
/// `value` = 2), in the document's order; `wrapper` is the message holding
/// the list as its field 1 (`Definitions`, `Properties`, …).
private func namedMap(_ wrapper: String, value: @escaping MessageEncoder) -> MessageEncoder {
    { json, path in
        var writer = WireWriter()
        for (key, member) in try expectObject(json, at: path, for: wrapper) {
            writer.bytesField(1, named(key, try value(member, entry(path, key))))
        }
        return writer.bytes
    }
}

private func named(_ name: String, _ value: [UInt8]) -> [UInt8] {
    var writer = WireWriter()
    writer.stringField(1, name)
    writer.bytesField(2, value)
    return writer.bytes
}

private func namedAny(_ name: String, _ value: JSONValue, at path: String) throws -> [UInt8] {
    named(name, try anyMessage(value, path))
}

/// gnostic's `Any`: the value as YAML text in `yaml` (field 2); `value`
/// (a `google.protobuf.Any`) stays empty, as gnostic leaves it.
private let anyMessage: MessageEncoder = { value, path in
    var writer = WireWriter()
    writer.stringField(2, try YAMLText.render(value, at: path))
    return writer.bytes
}

/// A `oneof` chosen by a JSON object's content: the field number and the
/// message to write there.
private func oneOf(_ choose: @escaping @Sendable (JSONObject, String) throws -> (Int, MessageShape)) -> MessageEncoder {
    { value, path in
        let (number, shape) = try choose(try expectObject(value, at: path, for: "value"), path)
        var writer = WireWriter()
        writer.bytesField(number, try shape.encode(value, at: path))
        return writer.bytes
    }
}

// MARK: - Any.yaml

/// Renders a JSON value as YAML text for gnostic's `Any.yaml`. kube-openapi
/// reads it back with a YAML parser (`x-kubernetes-patch-merge-key`,
/// `x-kubernetes-group-version-kind`, …), so what matters is that it parses to
/// the same value; plain scalars still read as gnostic writes them (`name\n`).
private enum YAMLText {
    static func render(_ value: JSONValue, at path: String) throws -> String {
        try checkFinite(value, at: path)
        if case .string(let text) = value, isPlain(text) { return text + "\n" }
        // JSON is YAML's flow style; strings in double quotes never change type.
        return JSONSerializer.string(value) + "\n"
    }

    private static func checkFinite(_ value: JSONValue, at path: String) throws {
        switch value {
        case .double(let figure) where !figure.isFinite:
            throw OpenAPIV2EncodingError(path: path, reason: "\(figure) is not a finite number")
        case .array(let elements):
            for (index, element) in elements.enumerated() { try checkFinite(element, at: "\(path)[\(index)]") }
        case .object(let object):
            for (key, member) in object { try checkFinite(member, at: entry(path, key)) }
        default: break
        }
    }

    /// Words YAML 1.1 parsers (go-yaml v2 among them) read as booleans or null.
    private static let reservedWords: Set<String> = ["y", "n", "yes", "no", "true", "false", "on", "off", "null"]

    /// A string that reads back as itself without quotes: a letter followed by
    /// letters, digits and `.`, `_`, `-`, `/` only, and no reserved word.
    private static func isPlain(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first.isASCIILetter else { return false }
        guard !reservedWords.contains(text.lowercased()) else { return false }
        return text.unicodeScalars.allSatisfy { $0.isASCIILetter || ("0"..."9").contains($0) || "._-/".unicodeScalars.contains($0) }
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}

// MARK: - The messages of OpenAPIv2.proto
//
// Field numbers are those of gnostic-models' openapiv2/OpenAPIv2.proto; a copy
// lives in Tests/CapstanAPIServerTests/Fixtures/gnostic, where the tests decode
// this encoder's output with protoc.

private enum Shapes {
    static let document: MessageShape = .init(
        name: "Document",
        fields: [
            Field(key: "swagger") { writer, value, path in
                guard value == "2.0" else {
                    throw OpenAPIV2EncodingError(path: path, reason: "only Swagger \"2.0\" can be encoded, got \(JSONSerializer.string(value))")
                }
                writer.stringField(1, "2.0")
            },
            message("info", 2, shape { info }), string("host", 3), string("basePath", 4),
            strings("schemes", 5), strings("consumes", 6), strings("produces", 7),
            message("paths", 8, paths), message("definitions", 9, namedMap("Definitions", value: shape { schema })),
            message("parameters", 10, namedMap("ParameterDefinitions", value: parameter)),
            message("responses", 11, namedMap("ResponseDefinitions", value: shape { response })),
            messages("security", 12, securityRequirement),
            message("securityDefinitions", 13, namedMap("SecurityDefinitions", value: securityDefinitionsItem)),
            messages("tags", 14, shape { tag }), message("externalDocs", 15, shape { externalDocs }),
        ],
        required: ["swagger", "info", "paths"], vendorExtensions: 16)

    static let info: MessageShape = .init(
        name: "Info",
        fields: [
            string("title", 1), string("version", 2), string("description", 3), string("termsOfService", 4),
            message("contact", 5, shape { contact }), message("license", 6, shape { license }),
        ],
        required: ["title", "version"], vendorExtensions: 7)

    static let contact: MessageShape = .init(
        name: "Contact", fields: [string("name", 1), string("url", 2), string("email", 3)], vendorExtensions: 4)

    static let license: MessageShape = .init(name: "License", fields: [string("name", 1), string("url", 2)], required: ["name"], vendorExtensions: 3)

    static let externalDocs: MessageShape = .init(
        name: "ExternalDocs", fields: [string("description", 1), string("url", 2)], required: ["url"], vendorExtensions: 3)

    static let tag: MessageShape = .init(
        name: "Tag", fields: [string("name", 1), string("description", 2), message("externalDocs", 3, shape { externalDocs })],
        required: ["name"], vendorExtensions: 4)

    /// `Paths`: vendor extensions are its field 1, the path items its field 2.
    static let paths: MessageEncoder = { value, path in
        var writer = WireWriter()
        for (key, member) in try expectObject(value, at: path, for: "Paths") {
            if key.hasPrefix("x-") {
                writer.bytesField(1, try namedAny(key, member, at: entry(path, key)))
            } else if key.hasPrefix("/") {
                writer.bytesField(2, named(key, try pathItem.encode(member, at: entry(path, key))))
            } else {
                throw OpenAPIV2EncodingError(path: path, reason: "a path must start with \"/\" (or be an x- extension), got \"\(key)\"")
            }
        }
        return writer.bytes
    }

    static let pathItem: MessageShape = .init(
        name: "PathItem",
        fields: [
            string("$ref", 1), message("get", 2, shape { operation }), message("put", 3, shape { operation }),
            message("post", 4, shape { operation }), message("delete", 5, shape { operation }),
            message("options", 6, shape { operation }), message("head", 7, shape { operation }),
            message("patch", 8, shape { operation }), messages("parameters", 9, parametersItem),
        ],
        vendorExtensions: 10)

    static let operation: MessageShape = .init(
        name: "Operation",
        fields: [
            strings("tags", 1), string("summary", 2), string("description", 3), message("externalDocs", 4, shape { externalDocs }),
            string("operationId", 5), strings("produces", 6), strings("consumes", 7), messages("parameters", 8, parametersItem),
            message("responses", 9, responses), strings("schemes", 10), bool("deprecated", 11),
            messages("security", 12, securityRequirement),
        ],
        required: ["responses"], vendorExtensions: 13)

    // MARK: Parameters

    static let jsonReference: MessageShape = .init(
        name: "JsonReference", fields: [string("$ref", 1), string("description", 2)], vendorExtensions: nil)

    /// `ParametersItem`: a `$ref` to a shared parameter, or the parameter itself.
    static let parametersItem: MessageEncoder = { value, path in
        var writer = WireWriter()
        if try expectObject(value, at: path, for: "parameter")["$ref"] != nil {
            writer.bytesField(2, try jsonReference.encode(value, at: path))
        } else {
            writer.bytesField(1, try parameter(value, path))
        }
        return writer.bytes
    }

    /// `Parameter`: `in` picks a `BodyParameter` (field 1) or a `NonBodyParameter`
    /// (field 2) whose own `oneof` names the location.
    static let parameter: MessageEncoder = { value, path in
        let object = try expectObject(value, at: path, for: "Parameter")
        guard let location = object["in"] else { throw OpenAPIV2EncodingError(path: path, reason: "Parameter requires \"in\"") }
        var writer = WireWriter()
        switch try expectString(location, at: "\(path).in") {
        case "body":
            writer.bytesField(1, try bodyParameter.encode(value, at: path))
        case let place:
            guard let location = nonBodyParameters[place] else {
                throw OpenAPIV2EncodingError(
                    path: "\(path).in", reason: "a parameter is in body, header, formData, query or path, not \"\(place)\"")
            }
            var nonBody = WireWriter()
            nonBody.bytesField(location.field, try location.subSchema.encode(value, at: path))
            writer.bytesField(2, nonBody.bytes)
        }
        return writer.bytes
    }

    static let bodyParameter: MessageShape = .init(
        name: "BodyParameter",
        fields: [string("description", 1), string("name", 2), string("in", 3), bool("required", 4), message("schema", 5, shape { schema })],
        required: ["name", "in", "schema"], vendorExtensions: 6)

    static let nonBodyParameters: [String: (field: Int, subSchema: MessageShape)] = [
        "header": (1, nonBodyParameter("HeaderParameterSubSchema", allowsEmptyValue: false)),
        "formData": (2, nonBodyParameter("FormDataParameterSubSchema", allowsEmptyValue: true)),
        "query": (3, nonBodyParameter("QueryParameterSubSchema", allowsEmptyValue: true)),
        "path": (4, nonBodyParameter("PathParameterSubSchema", allowsEmptyValue: false)),
    ]

    /// The four non-body sub-schemas share their fields; `allowEmptyValue`
    /// (field 5 of the query and formData kinds) shifts the rest by one.
    static func nonBodyParameter(_ name: String, allowsEmptyValue: Bool) -> MessageShape {
        let shift = allowsEmptyValue ? 1 : 0
        let head = [string("in", 2), string("description", 3), string("name", 4)]
        let validations = primitiveFields(startingAt: 5 + shift)
        return MessageShape(
            name: name, fields: [bool("required", 1)] + head + (allowsEmptyValue ? [bool("allowEmptyValue", 5)] : []) + validations,
            required: ["name", "in"], vendorExtensions: 22 + shift)
    }

    /// The fields from `type` to `multipleOf` that parameters, `PrimitivesItems`
    /// and `Header` have in common, numbered from `first` in this order.
    static func primitiveFields(startingAt first: Int) -> [Field] {
        [
            string("type", first), string("format", first + 1), message("items", first + 2, shape { primitivesItems }),
            string("collectionFormat", first + 3), any("default", first + 4), double("maximum", first + 5),
            bool("exclusiveMaximum", first + 6), double("minimum", first + 7), bool("exclusiveMinimum", first + 8),
            int64("maxLength", first + 9), int64("minLength", first + 10), string("pattern", first + 11),
            int64("maxItems", first + 12), int64("minItems", first + 13), bool("uniqueItems", first + 14),
            anys("enum", first + 15), double("multipleOf", first + 16),
        ]
    }

    static let primitivesItems: MessageShape = .init(name: "PrimitivesItems", fields: primitiveFields(startingAt: 1), vendorExtensions: 18)

    // MARK: Responses

    /// `Responses`: status codes (or `default`) are field 1, extensions field 2.
    static let responses: MessageEncoder = { value, path in
        var writer = WireWriter()
        for (key, member) in try expectObject(value, at: path, for: "Responses") {
            if key.hasPrefix("x-") {
                writer.bytesField(2, try namedAny(key, member, at: entry(path, key)))
            } else if key == "default" || (key.utf8.count == 3 && key.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) {
                writer.bytesField(1, named(key, try responseValue(member, entry(path, key))))
            } else {
                throw OpenAPIV2EncodingError(path: path, reason: "a response is keyed by a three-digit status code or \"default\", not \"\(key)\"")
            }
        }
        return writer.bytes
    }

    static let responseValue: MessageEncoder = oneOf { object, _ in object["$ref"] != nil ? (2, jsonReference) : (1, response) }

    static let response: MessageShape = .init(
        name: "Response",
        fields: [
            string("description", 1), message("schema", 2, schemaItem), message("headers", 3, namedMap("Headers", value: shape { header })),
            message("examples", 4, namedMap("Examples", value: anyMessage)),
        ],
        required: ["description"], vendorExtensions: 5)

    /// `SchemaItem`: a `FileSchema` for `type: file` (as gnostic picks it), else a `Schema`.
    static let schemaItem: MessageEncoder = oneOf { object, _ in object["type"] == "file" ? (2, fileSchema) : (1, schema) }

    static let header: MessageShape = .init(
        name: "Header", fields: primitiveFields(startingAt: 1) + [string("description", 18)], vendorExtensions: 19)

    // MARK: Schemas

    static let schema: MessageShape = .init(
        name: "Schema",
        fields: [
            string("$ref", 1), string("format", 2), string("title", 3), string("description", 4), any("default", 5),
            double("multipleOf", 6), double("maximum", 7), bool("exclusiveMaximum", 8), double("minimum", 9),
            bool("exclusiveMinimum", 10), int64("maxLength", 11), int64("minLength", 12), string("pattern", 13),
            int64("maxItems", 14), int64("minItems", 15), bool("uniqueItems", 16), int64("maxProperties", 17),
            int64("minProperties", 18), strings("required", 19), anys("enum", 20),
            message("additionalProperties", 21, additionalProperties), message("type", 22, typeItem),
            message("items", 23, itemsItem), messages("allOf", 24, shape { schema }),
            message("properties", 25, namedMap("Properties", value: shape { schema })), string("discriminator", 26),
            bool("readOnly", 27), message("xml", 28, shape { xml }), message("externalDocs", 29, shape { externalDocs }),
            any("example", 30),
        ],
        vendorExtensions: 31)

    /// `AdditionalPropertiesItem`: a schema (field 1) or a boolean (field 2),
    /// written even when `false`: a `oneof` member is present by being written.
    static let additionalProperties: MessageEncoder = { value, path in
        var writer = WireWriter()
        switch value {
        case .bool(let allowed): writer.boolField(2, allowed)
        case .object: writer.bytesField(1, try schema.encode(value, at: path))
        default:
            throw OpenAPIV2EncodingError(path: path, reason: "additionalProperties must be a schema or a boolean, got \(value.typeName)")
        }
        return writer.bytes
    }

    /// `TypeItem`: one type name or a list of them.
    static let typeItem: MessageEncoder = { value, path in
        var writer = WireWriter()
        switch value {
        case .string(let name): writer.stringField(1, name)
        case .array(let names):
            for (index, name) in names.enumerated() { writer.stringField(1, try expectString(name, at: "\(path)[\(index)]")) }
        default: throw OpenAPIV2EncodingError(path: path, reason: "type must be a string or an array of strings, got \(value.typeName)")
        }
        return writer.bytes
    }

    /// `ItemsItem`: one schema, or a list of them (tuple validation).
    static let itemsItem: MessageEncoder = { value, path in
        var writer = WireWriter()
        switch value {
        case .object: writer.bytesField(1, try schema.encode(value, at: path))
        case .array(let schemas):
            for (index, element) in schemas.enumerated() { writer.bytesField(1, try schema.encode(element, at: "\(path)[\(index)]")) }
        default: throw OpenAPIV2EncodingError(path: path, reason: "items must be a schema or an array of schemas, got \(value.typeName)")
        }
        return writer.bytes
    }

    static let fileSchema: MessageShape = .init(
        name: "FileSchema",
        fields: [
            string("format", 1), string("title", 2), string("description", 3), any("default", 4), strings("required", 5),
            string("type", 6), bool("readOnly", 7), message("externalDocs", 8, shape { externalDocs }), any("example", 9),
        ],
        required: ["type"], vendorExtensions: 10)

    static let xml: MessageShape = .init(
        name: "Xml",
        fields: [string("name", 1), string("namespace", 2), string("prefix", 3), bool("attribute", 4), bool("wrapped", 5)],
        vendorExtensions: 6)

    // MARK: Security

    /// `SecurityRequirement`: scheme name → the scopes it needs (`NamedStringArray`).
    static let securityRequirement: MessageEncoder = namedMap("SecurityRequirement") { value, path in
        var scopes = WireWriter()
        for (index, scope) in try expectArray(value, at: path).enumerated() {
            scopes.stringField(1, try expectString(scope, at: "\(path)[\(index)]"))
        }
        return scopes.bytes
    }

    /// `SecurityDefinitionsItem`: `type` (and for OAuth2 `flow`) picks the message.
    static let securityDefinitionsItem: MessageEncoder = oneOf { object, path in
        switch (object["type"]?.stringValue ?? "", object["flow"]?.stringValue ?? "") {
        case ("basic", _): return (1, basicSecurity)
        case ("apiKey", _): return (2, apiKeySecurity)
        case ("oauth2", "implicit"): return (3, oauth2(name: "Oauth2ImplicitSecurity", authorizationURL: true, tokenURL: false))
        case ("oauth2", "password"): return (4, oauth2(name: "Oauth2PasswordSecurity", authorizationURL: false, tokenURL: true))
        case ("oauth2", "application"): return (5, oauth2(name: "Oauth2ApplicationSecurity", authorizationURL: false, tokenURL: true))
        case ("oauth2", "accessCode"): return (6, oauth2(name: "Oauth2AccessCodeSecurity", authorizationURL: true, tokenURL: true))
        default:
            throw OpenAPIV2EncodingError(
                path: path,
                reason: "a security definition's type is basic, apiKey or oauth2 (with flow implicit, password, application or accessCode)")
        }
    }

    static let basicSecurity: MessageShape = .init(
        name: "BasicAuthenticationSecurity", fields: [string("type", 1), string("description", 2)], vendorExtensions: 3)

    static let apiKeySecurity: MessageShape = .init(
        name: "ApiKeySecurity", fields: [string("type", 1), string("name", 2), string("in", 3), string("description", 4)],
        required: ["type", "name", "in"], vendorExtensions: 5)

    /// The four OAuth2 flows: `type`, `flow`, `scopes`, then the URLs the
    /// flow has, `description` and the extensions, numbered in that order.
    static func oauth2(name: String, authorizationURL: Bool, tokenURL: Bool) -> MessageShape {
        var fields = [string("type", 1), string("flow", 2), message("scopes", 3, namedMap("Oauth2Scopes", value: scopeDescription))]
        if authorizationURL { fields.append(string("authorizationUrl", fields.count + 1)) }
        if tokenURL { fields.append(string("tokenUrl", fields.count + 1)) }
        fields.append(string("description", fields.count + 1))
        return MessageShape(name: name, fields: fields, vendorExtensions: fields.count + 1)
    }

    /// `NamedString`'s value is a bare string, not a message: `named` wraps
    /// these bytes as field 2, which is how a string field is written too.
    static let scopeDescription: MessageEncoder = { value, path in Array(try expectString(value, at: path).utf8) }
}
