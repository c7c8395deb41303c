import CapstanCore
import Crypto
import OrderedCollections

/// The OpenAPI documents the API server publishes, built from Kubernetes'
/// own schemas (CapstanCore's ``KubernetesSchemas``):
///
/// - `/openapi/v3` lists one document per served group version, each at a
///   URL carrying a hash of its content (kubectl caches documents by it);
/// - `/openapi/v3/apis/<group>/<version>` holds the group's paths and the
///   schemas of its kinds with everything they refer to, so `kubectl explain`
///   prints Kubernetes' field docs, and declares `fieldValidation` on every
///   write, so kubectl leaves validation to the server;
/// - `/openapi/v2` is the same in Swagger 2.0, which kubectl reads for
///   strategic-merge-patch metadata and client-side validation.
///
/// The documents depend only on what is served, so each is built once.
enum OpenAPIDocuments {
    struct Document: Sendable {
        let bytes: [UInt8]
        let hash: String
    }

    /// The built-in kinds by group version, in discovery's order. Custom
    /// kinds have no OpenAPI document yet.
    private static var builtinGroupVersions: [(group: String, version: String, kinds: [KindInfo])] {
        Discovery.groups(KindCatalog()).flatMap { group in group.versions.map { (group.name, $0.version, $0.kinds) } }
    }

    /// The v3 document of each group version, by its path (`apis/apps/v1`).
    static let v3: [String: Document] = {
        var documents: [String: Document] = [:]
        for (group, version, kinds) in builtinGroupVersions {
            let bytes = JSONSerializer.bytes(v3Document(group: group, version: version, kinds: kinds))
            documents[prefix(group: group, version: version)] = Document(bytes: bytes, hash: hash(bytes))
        }
        return documents
    }()

    /// The built-in part of the v3 index: every built-in group version's document URL.
    private static let builtinV3Index: JSONObject = {
        var paths = JSONObject()
        for (group, version, _) in builtinGroupVersions {
            let path = prefix(group: group, version: version)
            guard let document = v3[path] else { continue }
            paths[path] = ["serverRelativeURL": .string("/openapi/v3/\(path)?hash=\(document.hash)")]
        }
        return paths
    }()

    /// The v3 index: the built-in documents and one per group version that
    /// only custom kinds are served at (its hash changes with their definitions).
    static func v3Index(_ catalog: KindCatalog) -> [UInt8] {
        var paths = builtinV3Index
        for (path, document) in customV3Documents(catalog) {
            paths[path] = ["serverRelativeURL": .string("/openapi/v3/\(path)?hash=\(document.hash)")]
        }
        return JSONSerializer.bytes(["paths": .object(paths)])
    }

    /// The v3 document at `path` (`apis/example.com/v1`), built-in or custom.
    static func v3Document(at path: String, _ catalog: KindCatalog) -> Document? {
        v3[path] ?? customV3Documents(catalog)[path]
    }

    /// Documents of the custom kinds, by path: each kind's schema as its
    /// definition writes it, with Kubernetes' ObjectMeta for `metadata`, so
    /// `kubectl explain` reads a custom kind as it reads a built-in one.
    private static func customV3Documents(_ catalog: KindCatalog) -> [String: Document] {
        var byPath: [String: [KindInfo]] = [:]
        for info in catalog.all where catalog.custom(info) != nil {
            byPath[prefix(group: info.group, version: info.version), default: []].append(info)
        }
        var documents: [String: Document] = [:]
        for (path, kinds) in byPath where v3[path] == nil {
            let bytes = JSONSerializer.bytes(customV3Document(kinds, catalog))
            documents[path] = Document(bytes: bytes, hash: hash(bytes))
        }
        return documents
    }

    private static func customV3Document(_ kinds: [KindInfo], _ catalog: KindCatalog) -> JSONValue {
        let objectMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
        let shared = KubernetesSchemas.closure(of: [objectMeta])
        var components = JSONObject()
        for name in shared.keys.sorted() { components[name] = .object(shared[name]!) }
        var paths = JSONObject()
        for info in kinds {
            guard let custom = catalog.custom(info) else { continue }
            let group = info.group.split(separator: ".").reversed().joined(separator: ".")
            let name = "\(group).\(info.version).\(info.kind)"
            var schema = custom.version.schema?.objectValue ?? ["type": "object"]
            var properties = schema["properties"]?.objectValue ?? [:]
            properties["metadata"] = [
                "allOf": [["$ref": .string(KubernetesSchemas.referencePrefix + objectMeta)]], "description": "Standard object's metadata.",
            ]
            for field in ["apiVersion", "kind"] where properties[field] == nil { properties[field] = ["type": "string"] }
            schema["properties"] = .object(properties)
            schema["x-kubernetes-group-version-kind"] = [
                ["group": .string(info.group), "version": .string(info.version), "kind": .string(info.kind)]
            ]
            components[name] = .object(schema)
            let kind = KindPaths(info: info, definition: name)
            let body: JSONValue = ["$ref": .string(KubernetesSchemas.referencePrefix + name)]
            for operation in kind.operations {
                var item = paths[operation.path]?.objectValue ?? [:]
                item[operation.method] = [
                    "operationId": .string(operation.action + info.kind), "x-kubernetes-action": .string(operation.action),
                    "x-kubernetes-group-version-kind": kind.gvk, "parameters": kind.parameters(operation.parameters, v2: false),
                    "responses": ["200": ["description": "OK", "content": ["application/json": ["schema": body]]]],
                ]
                paths[operation.path] = .object(item)
            }
        }
        return [
            "openapi": "3.0.0", "info": ["title": "Kubernetes CRD Swagger", "version": "v0.1.0"], "paths": .object(paths),
            "components": ["schemas": .object(components)],
        ]
    }

    /// The Swagger 2.0 document of everything served.
    static let v2: JSONValue = v2Document(kinds: BuiltinKinds.all)

    /// ``v2`` as gnostic's `openapi_v2.Document` message, the only form kubectl reads.
    static let v2Protobuf: Result<[UInt8], any Error> = Result { try OpenAPIV2Protobuf.encode(v2) }

    /// What kubectl asks for; the `@` makes it an invalid media type to
    /// send back, so the answer names the type as kube-openapi does.
    static let v2ProtobufAccept = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
    static let v2ProtobufContentType = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"

    static func prefix(group: String, version: String) -> String {
        group.isEmpty ? "api/\(version)" : "apis/\(group)/\(version)"
    }

    private static func hash(_ bytes: [UInt8]) -> String {
        SHA512.hash(data: bytes).prefix(64).map { byte in
            let text = String(byte, radix: 16, uppercase: true)
            return text.count == 1 ? "0" + text : text
        }.joined()
    }

    // MARK: Paths

    /// One served kind's two paths (collection and item), with the verbs
    /// Kubernetes documents on each.
    private struct KindPaths {
        let info: KindInfo
        let definition: String?

        var base: String {
            "/" + OpenAPIDocuments.prefix(group: info.group, version: info.version)
                + (info.namespaced ? "/namespaces/{namespace}/" : "/") + info.resource
        }

        var gvk: JSONValue { ["group": .string(info.group), "version": .string(info.version), "kind": .string(info.kind)] }

        /// The parameters of an operation, in the form of either version.
        func parameters(_ names: [String], v2: Bool) -> JSONValue {
            .array(
                names.map { name in
                    var parameter: JSONObject = ["name": .string(name), "in": "query", "description": .string(description(of: name))]
                    if v2 {
                        parameter["type"] = "string"
                        parameter["uniqueItems"] = true
                    } else {
                        parameter["schema"] = ["type": "string", "uniqueItems": true]
                    }
                    return .object(parameter)
                })
        }

        private func description(of parameter: String) -> String {
            switch parameter {
            case "fieldValidation":
                "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields: Ignore, Warn (the default) or Strict."
            case "fieldManager": "fieldManager is a name associated with the actor or entity that is making these changes."
            case "dryRun": "When present, indicates that modifications should not be persisted. The only valid value is All."
            case "force": "Force is going to \"force\" Apply requests."
            default: parameter
            }
        }

        /// `(path, method, action, parameters)` for each operation Kubernetes documents.
        var operations: [(path: String, method: String, action: String, parameters: [String])] {
            let writes = ["dryRun", "fieldManager", "fieldValidation"]
            return [
                (base, "get", "list", []),
                (base, "post", "post", writes),
                (base + "/{name}", "get", "get", []),
                (base + "/{name}", "put", "put", writes),
                (base + "/{name}", "patch", "patch", writes + ["force"]),
                (base + "/{name}", "delete", "delete", ["dryRun"]),
            ]
        }
    }

    private static func v3Document(group: String, version: String, kinds: [KindInfo]) -> JSONValue {
        var paths = JSONObject()
        var names: [String] = []
        for info in kinds {
            let kind = KindPaths(info: info, definition: KubernetesSchemas.definitionName(of: info))
            if let definition = kind.definition { names.append(definition) }
            let body: JSONValue = kind.definition.map { ["$ref": .string(KubernetesSchemas.referencePrefix + $0)] } ?? ["type": "object"]
            for operation in kind.operations {
                var entry: JSONObject = [
                    "operationId": .string(operation.action + info.kind),
                    "x-kubernetes-action": .string(operation.action), "x-kubernetes-group-version-kind": kind.gvk,
                    "parameters": kind.parameters(operation.parameters, v2: false),
                    "responses": ["200": ["description": "OK", "content": ["application/json": ["schema": body]]]],
                ]
                if ["post", "put", "patch"].contains(operation.method) {
                    entry["requestBody"] = ["content": ["application/json": ["schema": body]], "required": true]
                }
                var item = paths[operation.path]?.objectValue ?? [:]
                item[operation.method] = .object(entry)
                paths[operation.path] = .object(item)
            }
        }
        let schemas = KubernetesSchemas.closure(of: names)
        var components = JSONObject()
        for name in schemas.keys.sorted() { components[name] = .object(schemas[name]!) }
        return [
            "openapi": "3.0.0", "info": ["title": "Kubernetes", "version": "v1.32.0"], "paths": .object(paths),
            "components": ["schemas": .object(components)],
        ]
    }

    // MARK: Swagger 2.0

    private static func v2Document(kinds: [KindInfo]) -> JSONValue {
        var paths = JSONObject()
        var names: [String] = []
        for info in kinds {
            let kind = KindPaths(info: info, definition: KubernetesSchemas.definitionName(of: info))
            if let definition = kind.definition { names.append(definition) }
            let body: JSONValue = kind.definition.map { ["$ref": .string("#/definitions/" + $0)] } ?? ["type": "object"]
            for operation in kind.operations {
                var parameters = kind.parameters(operation.parameters, v2: true).arrayValue ?? []
                if ["post", "put", "patch"].contains(operation.method) {
                    parameters.insert(["name": "body", "in": "body", "required": true, "schema": body], at: 0)
                }
                let entry: JSONObject = [
                    "operationId": .string(operation.action + info.kind), "consumes": ["application/json"], "produces": ["application/json"],
                    "schemes": ["https"], "x-kubernetes-action": .string(operation.action), "x-kubernetes-group-version-kind": kind.gvk,
                    "parameters": .array(parameters), "responses": ["200": ["description": "OK", "schema": body]],
                ]
                var item = paths[operation.path]?.objectValue ?? [:]
                item[operation.method] = .object(entry)
                paths[operation.path] = .object(item)
            }
        }
        let schemas = KubernetesSchemas.closure(of: names)
        var definitions = JSONObject()
        for name in schemas.keys.sorted() { definitions[name] = v2Schema(.object(schemas[name]!)) }
        return [
            "swagger": "2.0", "info": ["title": "Kubernetes", "version": "v1.32.0"], "paths": .object(paths),
            "definitions": .object(definitions),
        ]
    }

    /// A v3 schema node in v2's form: references point into `#/definitions/`,
    /// and an `allOf` wrapper around one reference becomes the reference
    /// itself, beside its description, as Kubernetes' v2 document has it.
    static func v2Schema(_ node: JSONValue) -> JSONValue {
        switch node {
        case .object(let object):
            var result = JSONObject()
            for (key, value) in object {
                switch key {
                case "$ref":
                    let name = value.stringValue.flatMap(KubernetesSchemas.referencedName) ?? ""
                    result["$ref"] = .string("#/definitions/" + name)
                case "allOf" where value.arrayValue?.count == 1 && value[0]?["$ref"] != nil:
                    result["$ref"] = v2Schema(value[0]!)["$ref"]
                case "properties":
                    var properties = JSONObject()
                    for (name, child) in value.objectValue ?? [:] { properties[name] = v2Schema(child) }
                    result[key] = .object(properties)
                default:
                    result[key] = v2Schema(value)
                }
            }
            return .object(result)
        case .array(let values):
            return .array(values.map(v2Schema))
        default:
            return node
        }
    }
}
