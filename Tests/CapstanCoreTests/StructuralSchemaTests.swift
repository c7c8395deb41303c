import Foundation
import Testing

@testable import CapstanCore

/// The CustomResourceDefinitions under Fixtures/crds, copied from their projects.
enum CRDFixture {
    static let root = Bundle.module.resourceURL!.appending(path: "Fixtures/crds")

    static func definition(_ name: String) throws -> JSONValue {
        let bytes = try [UInt8](Data(contentsOf: root.appending(path: name)))
        let documents = try YAMLLoader().load(bytes, file: name)
        return try #require(documents.first?.value)
    }

    static func schema(_ name: String) throws -> StructuralSchema {
        let definition = try definition(name)
        return try StructuralSchema(try #require(definition[path: "spec", "versions"]?[0]?[path: "schema", "openAPIV3Schema"]))
    }

    static let certificates = "cert-manager.io_certificates.yaml"
    static let rollouts = "rollout-crd.yaml"
}

private func json(_ text: String) throws -> JSONValue { try JSONParser().parse(text) }
private func messages(_ errors: [FieldError]) -> [String] { errors.map(\.description) }

private func certificate(spec: String) throws -> JSONValue {
    try json(#"{"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "web", "namespace": "apps"}, "spec": \#(spec)}"#)
}

private let validSpec = #"""
    {"secretName": "web-tls", "dnsNames": ["web.example.com"], "duration": "2160h",
     "issuerRef": {"name": "letsencrypt", "kind": "ClusterIssuer", "group": "cert-manager.io"},
     "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"}, "usages": ["digital signature", "key encipherment"]}
    """#

@Suite struct StructuralSchemaFixtureTests {
    @Test(arguments: [CRDFixture.certificates, CRDFixture.rollouts])
    func realSchemasAreStructural(_ name: String) throws {
        let schema = try CRDFixture.schema(name)
        #expect(messages(schema.structuralErrors()) == [])
    }

    @Test func validCertificatePasses() throws {
        let schema = try CRDFixture.schema(CRDFixture.certificates)
        let object = try certificate(spec: validSpec)
        #expect(messages(schema.validate(object, old: nil)) == [])
        let pruned = schema.pruned(object)
        #expect(pruned.unknownFields == [])
        #expect(pruned.object == object)
    }

    @Test func certificateWithoutSecretNameIsRequiredValue() throws {
        let schema = try CRDFixture.schema(CRDFixture.certificates)
        let object = try certificate(spec: #"{"issuerRef": {"name": "letsencrypt"}}"#)
        #expect(messages(schema.validate(object, old: nil)) == ["spec.secretName: Required value"])
    }

    @Test func certificateKeySizeOfWrongTypeIsKubernetesTypeError() throws {
        let schema = try CRDFixture.schema(CRDFixture.certificates)
        let object = try certificate(spec: #"{"secretName": "s", "issuerRef": {"name": "i"}, "privateKey": {"size": "big"}}"#)
        #expect(
            messages(schema.validate(object, old: nil)) == [
                #"spec.privateKey.size: Invalid value: "string": spec.privateKey.size in body must be of type integer: "string""#
            ])
    }

    @Test func certificateKeyAlgorithmOutsideEnumIsUnsupportedValue() throws {
        let schema = try CRDFixture.schema(CRDFixture.certificates)
        let object = try certificate(spec: #"{"secretName": "s", "issuerRef": {"name": "i"}, "privateKey": {"algorithm": "DSA"}}"#)
        #expect(
            messages(schema.validate(object, old: nil)) == [
                #"spec.privateKey.algorithm: Unsupported value: "DSA": supported values: "RSA", "ECDSA", "Ed25519""#
            ])
    }

    @Test func certificateUnknownFieldsArePrunedAndReported() throws {
        let schema = try CRDFixture.schema(CRDFixture.certificates)
        let object = try certificate(spec: #"{"secretName": "s", "secretNmae": "typo", "issuerRef": {"name": "i", "namespace": "x"}}"#)
        let pruned = schema.pruned(object)
        #expect(pruned.unknownFields.map(\.description) == ["spec.secretNmae", "spec.issuerRef.namespace"])
        #expect(pruned.object == (try certificate(spec: #"{"secretName": "s", "issuerRef": {"name": "i"}}"#)))
    }

    @Test func certificateStatusConditionsAreAKeyedListForServerSideApply() throws {
        let schema = try CRDFixture.schema(CRDFixture.certificates)
        #expect(schema.listTypes["status.conditions"] == .map(keys: ["type"]))
        #expect(schema.listTypes["spec.dnsNames"] == .atomic)
    }

    @Test func rolloutKeepsUnknownDataWhereTheSchemaPreservesIt() throws {
        let schema = try CRDFixture.schema(CRDFixture.rollouts)
        let object = try json(
            #"""
            {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "web", "labels": {"app": "web"}, "anything": 1},
             "spec": {"replicas": 2, "notAField": true,
               "strategy": {"canary": {"trafficRouting": {"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "web", "namespace": "apps"}}}}},
               "template": {"spec": {"containers": [{"name": "web", "image": "nginx", "resources": {"limits": {"cpu": "1", "example.com/gpu": 1}}}],
                                      "volumes": [{"name": "data", "csi": {"driver": "x", "anything": {"nested": [1, 2]}}}]}}}}
            """#)
        let pruned = schema.pruned(object)
        #expect(pruned.unknownFields.map(\.description) == ["spec.notAField"])
        #expect(
            pruned.object[path: "spec", "strategy", "canary", "trafficRouting", "plugins"]
                == object[path: "spec", "strategy", "canary", "trafficRouting", "plugins"])
        #expect(pruned.object[path: "spec", "template", "spec", "volumes"] == object[path: "spec", "template", "spec", "volumes"])
        #expect(pruned.object[path: "spec", "template", "spec", "containers"] == object[path: "spec", "template", "spec", "containers"])
        #expect(pruned.object["metadata"] == object["metadata"])
        #expect(messages(schema.validate(pruned.object, old: nil)) == [])
    }
}

/// A small schema exercising what the real ones do not.
private let widgetSchema = #"""
    {"type": "object", "properties": {
      "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
      "spec": {"type": "object", "required": ["size"], "properties": {
        "size": {"type": "integer", "format": "int32", "minimum": 1, "maximum": 10},
        "replicas": {"type": "integer", "default": 1},
        "mode": {"type": "string", "enum": ["A", "B"], "default": "A"},
        "note": {"type": "string", "nullable": true, "default": "none"},
        "label": {"type": "string", "maxLength": 5, "pattern": "^[a-z]+$"},
        "when": {"type": "string", "format": "date-time"},
        "port": {"x-kubernetes-int-or-string": true},
        "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set", "maxItems": 3},
        "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                  "items": {"type": "object", "required": ["name"], "properties": {
                    "name": {"type": "string"}, "protocol": {"type": "string", "default": "TCP"}, "port": {"type": "integer"}}}},
        "limits": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
        "template": {"type": "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true},
        "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
        "choice": {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
                   "oneOf": [{"required": ["a"]}, {"required": ["b"]}]},
        "range": {"type": "object", "x-kubernetes-validations": [{"rule": "self.min <= self.max", "message": "min must not exceed max"}],
                  "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}}}
      }}}}
    """#

@Suite struct StructuralSchemaBehaviourTests {
    let schema: StructuralSchema

    init() throws {
        schema = try StructuralSchema(try json(widgetSchema))
    }

    func widget(_ spec: String) throws -> JSONValue {
        try json(#"{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": \#(spec)}"#)
    }

    @Test func widgetSchemaIsStructural() {
        #expect(messages(schema.structuralErrors()) == [])
    }

    @Test func defaultsFillAbsentAndNonNullableNullFields() throws {
        let object = try widget(#"{"size": 2, "mode": null, "note": null, "ports": [{"name": "http"}], "label": null}"#)
        let defaulted = schema.defaulted(object)
        #expect(defaulted["spec"]?["replicas"] == 1)
        #expect(defaulted["spec"]?["mode"] == "A")  // null, not nullable: defaulted
        #expect(defaulted["spec"]?["note"] == .null)  // nullable: a null is kept
        #expect(defaulted["spec"]?["label"] == nil)  // null, not nullable, no default: dropped
        #expect(defaulted["spec"]?["ports"]?[0]?["protocol"] == "TCP")
        #expect(defaulted["metadata"] == object["metadata"])
        let absentNote = schema.defaulted(try widget(#"{"size": 2}"#))
        #expect(absentNote["spec"]?["note"] == "none")
        #expect(messages(schema.validate(defaulted, old: nil)) == [])
    }

    @Test(arguments: [
        (#"{"size": 0}"#, #"spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1"#),
        (#"{"size": 11}"#, #"spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10"#),
        (#"{"size": 3000000000}"#, #"spec.size: Invalid value: 3000000000: spec.size in body must be of type int32: "3000000000""#),
        (#"{"size": 1.5}"#, #"spec.size: Invalid value: "number": spec.size in body must be of type integer: "number""#),
        (#"{"size": 2, "label": "abcdef"}"#, "spec.label: Too long: may not be longer than 5"),
        (#"{"size": 2, "label": "AB"}"#, #"spec.label: Invalid value: "AB": spec.label in body should match '^[a-z]+$'"#),
        (#"{"size": 2, "when": "yesterday"}"#, #"spec.when: Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday""#),
        (#"{"size": 2, "port": true}"#, #"spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean""#),
        (#"{"size": 2, "tags": ["a", "b", "a"]}"#, #"spec.tags[2]: Duplicate value: "a""#),
        (#"{"size": 2, "tags": ["a", "b", "c", "d"]}"#, "spec.tags: Too many: 4: must have at most 3 items"),
        (#"{"size": 2, "ports": [{"name": "a"}, {"name": "a", "port": 2}]}"#, #"spec.ports[1]: Duplicate value: {"name":"a"}"#),
        (
            #"{"size": 2, "limits": {"cpu": -1}}"#,
            #"spec.limits.cpu: Invalid value: -1: spec.limits.cpu in body should be greater than or equal to 0"#
        ),
        (#"{"size": 2, "template": {"spec": {}}}"#, "spec.template.apiVersion: Required value: must not be empty"),
        (
            #"{"size": 2, "choice": {}}"#,
            #"spec.choice: Invalid value: "": spec.choice in body must validate one and only one schema (oneOf). Found none valid"#
        ),
        (#"{"size": 2, "mode": "C"}"#, #"spec.mode: Unsupported value: "C": supported values: "A", "B""#),
        (#"{"size": null}"#, #"spec.size: Invalid value: "null": spec.size in body must be of type integer: "null""#),
    ])
    func invalidValuesGetKubernetesMessages(_ spec: String, _ expected: String) throws {
        let errors = messages(schema.validate(try widget(spec), old: nil))
        #expect(errors.first == expected)
    }

    @Test func validValuesPass() throws {
        let object = try widget(
            #"""
            {"size": 10, "port": "http", "when": "2024-05-01T10:00:00Z", "tags": ["a", "b"], "limits": {"cpu": 2},
             "template": {"apiVersion": "v1", "kind": "Pod", "spec": {"anything": true}}, "extra": {"x": {"y": 1}}, "choice": {"b": "x"}}
            """#)
        #expect(messages(schema.validate(object, old: nil)) == [])
    }

    @Test func rulesHookGetsTheNodeItsValueAndTheOldValue() throws {
        let calls = CallLog()
        let hook: RuleHook = { rules, value, old, path in
            calls.append("\(path) \(rules.map(\.rule)) \(value) old=\(old.map(\.description) ?? "nil")")
            guard let min = value["min"]?.intValue, let max = value["max"]?.intValue, min > max else { return [] }
            return [.invalid(path, value, rules[0].message ?? "")]
        }
        let old = try widget(#"{"size": 2, "range": {"min": 1, "max": 2}}"#)
        let new = try widget(#"{"size": 2, "range": {"min": 3, "max": 2}}"#)
        #expect(messages(schema.validate(new, old: old, rules: hook)) == [#"spec.range: Invalid value: {"min":3,"max":2}: min must not exceed max"#])
        #expect(calls.entries == [#"spec.range ["self.min <= self.max"] {"min":3,"max":2} old={"min":1,"max":2}"#])
        _ = schema.validate(new, old: nil, rules: hook)
        #expect(calls.entries.last?.hasSuffix("old=nil") == true)
    }

    @Test func serverSideApplyMergesCustomMapListsByTheirKeys() throws {
        let live = try ServerSideApply.apply(
            try widget(#"{"size": 2, "ports": [{"name": "http", "port": 80}]}"#), to: nil, manager: "a", force: false, time: "t")
        let config = try widget(#"{"ports": [{"name": "https", "port": 443}]}"#)
        let merged = try MergeSchema.$customRules.withValue(schema) {
            try ServerSideApply.apply(config, to: live, manager: "b", force: false, time: "t")
        }
        #expect(merged[path: "spec", "ports"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["http", "https"])
        // Without the schema's rules the list is atomic and the second manager's list replaces it.
        let replaced = try ServerSideApply.apply(config, to: live, manager: "b", force: true, time: "t")
        #expect(replaced[path: "spec", "ports"]?.arrayValue?.count == 1)
    }

    @Test func deeplyNestedObjectsAreRefusedWithoutCrashing() throws {
        var deep: JSONValue = "bottom"
        for _ in 0..<10_000 { deep = ["a": deep] }
        let object = try widget(#"{"size": 2}"#)
        var hostile = object
        hostile[path: ["spec", "extra"]] = deep
        #expect(messages(schema.validate(hostile, old: nil)) == ["Forbidden: objects may not nest deeper than 256 levels"])
        #expect(schema.pruned(hostile).unknownFields == [])
        _ = schema.defaulted(hostile)
        // Take the value apart one level at a time: releasing it whole would recurse 10,000 deep.
        hostile = .null
        while let next = deep["a"] { deep = next }
    }

    @Test func hundredThousandElementListIsValidated() throws {
        let tags = JSONValue.array((0..<100_000).map { .string("t\($0)") })
        var object = try widget(#"{"size": 2}"#)
        object[path: ["spec", "ports"]] = .array((0..<100_000).map { ["name": .string("p\($0)")] })
        object[path: ["spec", "extra", "tags"]] = tags
        #expect(messages(schema.validate(object, old: nil)) == [])
        object[path: ["spec", "ports"]] = .array((0..<100_000).map { ["name": .string("p\($0 % 99_999)")] })
        #expect(messages(schema.validate(object, old: nil)) == [#"spec.ports[99999]: Duplicate value: {"name":"p0"}"#])
    }
}

/// Collects what a rule hook saw.
private final class CallLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func append(_ entry: String) { lock.withLock { items.append(entry) } }
    var entries: [String] { lock.withLock { items } }
}

@Suite struct StructuralSchemaRuleTests {
    static let cases: [(String, String)] = [
        (
            #"{"type": "object", "properties": {"spec": {"properties": {"a": {"type": "string"}}}}}"#,
            "properties[spec].type: Required value: must not be empty for specified object fields"
        ),
        (
            #"{"type": "object", "properties": {"spec": {"type": "array", "items": {}}}}"#,
            "properties[spec].items.type: Required value: must not be empty for specified array items"
        ),
        (#"{"type": "string"}"#, #"type: Invalid value: "string": must be object at the root"#),
        (##"{"type": "object", "properties": {"spec": {"$ref": "#/definitions/x"}}}"##, "properties[spec].$ref: Forbidden: $ref is not supported"),
        (
            #"{"type": "object", "properties": {"spec": {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "string"}}}}"#,
            "properties[spec].additionalProperties: Forbidden: additionalProperties and properties are mutually exclusive"
        ),
        (
            #"{"type": "object", "properties": {"metadata": {"type": "object", "properties": {"labels": {"type": "object"}}}}}"#,
            "properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified"
        ),
        (
            #"{"type": "object", "properties": {"metadata": {"type": "object", "properties": {"name": {"type": "string", "default": "x"}}}}}"#,
            "properties[metadata].properties[name].default: Forbidden: must not be set inside metadata"
        ),
        (
            #"{"type": "object", "properties": {"l": {"type": "array", "x-kubernetes-list-type": "map", "items": {"type": "object"}}}}"#,
            "properties[l].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map"
        ),
        (
            #"{"type": "object", "properties": {"l": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["k"], "items": {"type": "object", "properties": {"k": {"type": "string"}}}}}}"#,
            "properties[l].items.properties[k]: Required value: must be required or have a default value if parent array's x-kubernetes-list-type is map"
        ),
        (
            #"{"type": "object", "properties": {"l": {"type": "array", "x-kubernetes-list-type": "bag", "items": {"type": "string"}}}}"#,
            #"properties[l].x-kubernetes-list-type: Unsupported value: "bag": supported values: "atomic", "set", "map""#
        ),
        (
            #"{"type": "object", "properties": {"s": {"type": "string", "pattern": "(unclosed"}}}"#,
            "properties[s].pattern: Invalid value: \"(unclosed\": must be a valid regular expression"
        ),
        (
            #"{"type": "object", "properties": {"n": {"type": "integer", "default": "one"}}}"#,
            #"properties[n].default: Invalid value: "string": n in body must be of type integer: "string""#
        ),
        (
            #"{"type": "object", "properties": {"o": {"type": "object", "properties": {"a": {"type": "string"}}, "default": {"a": "x", "b": "y"}}}}"#,
            #"properties[o].default: Invalid value: {"a":"x","b":"y"}: must not have unknown fields: "b""#
        ),
        (
            #"{"type": "object", "properties": {"s": {"type": "string", "allOf": [{"type": "string", "minLength": 1}]}}}"#,
            "properties[s].allOf[0].type: Forbidden: must be empty to be structural"
        ),
        (
            #"{"type": "object", "properties": {"s": {"type": "object", "x-kubernetes-preserve-unknown-fields": false}}}"#,
            "properties[s].x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined"
        ),
        (
            #"{"type": "object", "properties": {"m": {"type": "object", "patternProperties": {"a": {"type": "string"}}}}}"#,
            "properties[m].patternProperties: Forbidden: patternProperties is not supported"
        ),
        (
            #"{"type": "object", "properties": {"l": {"type": "array", "uniqueItems": true, "items": {"type": "string"}}}}"#,
            "properties[l].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic"
        ),
    ]

    @Test(arguments: cases)
    func nonStructuralSchemasAreExplained(_ schemaText: String, _ expected: String) throws {
        let schema = try StructuralSchema(try json(schemaText))
        let found = messages(schema.structuralErrors())
        #expect(found.contains { $0.hasPrefix(expected) }, "\(found)")
    }

    @Test func unreadableSchemaIsRefusedAtParse() throws {
        #expect(throws: ValidationErrors.self) { try StructuralSchema(try json(#"{"type": 5}"#)) }
        var deep: JSONValue = ["type": "string"]
        for _ in 0..<10_000 { deep = ["type": "object", "properties": ["a": deep]] }
        do {
            _ = try StructuralSchema(deep)
            Issue.record("a schema 10,000 levels deep was accepted")
        } catch {
            #expect(error.description.contains("schemas may not nest deeper than 128 levels"))
        }
        while let next = deep["properties"]?["a"] { deep = next }
    }
}
