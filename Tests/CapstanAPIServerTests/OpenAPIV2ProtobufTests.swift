import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

@testable import CapstanAPIServer

/// `/openapi/v2` as kubectl reads it: the encoder's bytes, decoded by protoc
/// against gnostic's own OpenAPIv2.proto, say exactly what the JSON document says.
struct OpenAPIV2ProtobufTests {
    /// A slice of Kubernetes' Swagger 2.0 document with every construct
    /// kubectl relies on: a path with a group-version-kind, body and non-body
    /// parameters, `$ref`s, `additionalProperties` as schema, `true` and
    /// `false`, patch-merge vendor extensions, enums and defaults.
    static let document: JSONValue = [
        "swagger": "2.0",
        "info": ["title": "Kubernetes", "version": "v1.32.0"],
        "paths": [
            "/api/v1/namespaces/{namespace}/pods/{name}": [
                "get": [
                    "description": "read the specified Pod",
                    "consumes": ["*/*"],
                    "produces": ["application/json", "application/yaml"],
                    "schemes": ["https"],
                    "tags": ["core_v1"],
                    "operationId": "readCoreV1NamespacedPod",
                    "responses": [
                        "200": ["description": "OK", "schema": ["$ref": "#/definitions/io.k8s.api.core.v1.Pod"]],
                        "401": ["description": "Unauthorized"],
                    ],
                    "x-kubernetes-action": "get",
                    "x-kubernetes-group-version-kind": ["group": "", "kind": "Pod", "version": "v1"],
                ],
                "patch": [
                    "operationId": "patchCoreV1NamespacedPod",
                    "consumes": ["application/strategic-merge-patch+json"],
                    "parameters": [
                        [
                            "name": "body", "in": "body", "required": true,
                            "schema": ["$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"],
                        ],
                        ["uniqueItems": true, "type": "string", "description": "fieldManager is a name", "name": "fieldManager", "in": "query"],
                    ],
                    "responses": ["200": ["description": "OK"]],
                    "x-kubernetes-action": "patch",
                ],
                "parameters": [
                    ["$ref": "#/parameters/pretty-tJGM1-ng"],
                    ["uniqueItems": true, "type": "string", "description": "name of the Pod", "name": "name", "in": "path", "required": true],
                ],
            ]
        ],
        "definitions": [
            "io.k8s.api.core.v1.PodSpec": [
                "description": "PodSpec is a description of a pod.",
                "type": "object",
                "required": ["containers"],
                "properties": [
                    "containers": [
                        "type": "array",
                        "items": ["$ref": "#/definitions/io.k8s.api.core.v1.Container"],
                        "x-kubernetes-list-map-keys": ["name"],
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-patch-merge-key": "name",
                        "x-kubernetes-patch-strategy": "merge",
                    ],
                    "nodeSelector": ["type": "object", "additionalProperties": ["type": "string", "default": ""]],
                    "restartPolicy": ["type": "string", "enum": ["Always", "Never", "OnFailure"]],
                    "terminationGracePeriodSeconds": ["type": "integer", "format": "int64", "default": 30, "maxLength": 300],
                    "ratio": ["type": "number", "format": "double", "default": 0.5, "minimum": -1.25, "readOnly": true],
                    "enableServiceLinks": ["type": "boolean", "default": true],
                ],
            ],
            "io.k8s.apimachinery.pkg.apis.meta.v1.Patch": [
                "description": "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.",
                "type": "object",
            ],
            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps": [
                "type": ["object", "null"],
                "properties": ["x-kubernetes-preserve-unknown-fields": ["type": "boolean"]],
                "additionalProperties": false,
                "allOf": [["$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"]],
            ],
            "io.k8s.apimachinery.pkg.runtime.RawExtension": ["type": "object", "additionalProperties": true],
        ],
        "parameters": [
            "pretty-tJGM1-ng": [
                "uniqueItems": true, "type": "string", "description": "If 'true', then the output is pretty printed.", "name": "pretty",
                "in": "query",
            ]
        ],
        "securityDefinitions": [
            "BearerToken": ["type": "apiKey", "name": "authorization", "in": "header", "description": "Bearer Token authentication"]
        ],
        "security": [["BearerToken": []]],
    ]

    @Test func protocDecodesTheDocumentFieldForField() async throws {
        let decoded = try await Self.protocDecode(try OpenAPIV2Protobuf.encode(Self.document))
        #expect(decoded == Self.expectedText)
    }

    /// gnostic writes a plain scalar as plain YAML (`name\n`); anything YAML
    /// would read as another type or that needs quoting is JSON (YAML's flow style).
    @Test(arguments: [
        ("name", "name\n"), ("merge,retainKeys", "\"merge,retainKeys\"\n"), ("true", "\"true\"\n"), ("No", "\"No\"\n"),
        ("1.5", "\"1.5\"\n"), ("", "\"\"\n"), ("a: b", "\"a: b\"\n"), ("io.k8s.api/v1-x_y", "io.k8s.api/v1-x_y\n"),
    ])
    func vendorExtensionStringsReadBackAsStrings(value: String, yaml: String) throws {
        let bytes = try OpenAPIV2Protobuf.encode([
            "swagger": "2.0", "info": ["title": "t", "version": "v"], "paths": ["x-k": .string(value)],
        ])
        // Document.paths (8) ▸ Paths.vendor_extension (1) ▸ NamedAny.value (2) ▸ Any.yaml (2)
        let yamlBytes = Array(yaml.utf8)
        let any = [0x12, UInt8(yamlBytes.count)] + yamlBytes
        let namedAny = [0x0A, 0x03] + Array("x-k".utf8) + [0x12, UInt8(any.count)] + any
        let paths = [0x0A, UInt8(namedAny.count)] + namedAny
        #expect(bytes.suffix(paths.count + 2) == [0x42, UInt8(paths.count)] + paths)
    }

    static let info: JSONValue = ["title": "t", "version": "v"]

    static func document(definitions: JSONValue) -> JSONValue {
        ["swagger": "2.0", "info": info, "paths": [:], "definitions": definitions]
    }

    static func document(path: JSONValue) -> JSONValue {
        ["swagger": "2.0", "info": info, "paths": ["/p": path]]
    }

    static let refusals: [(document: JSONValue, path: String, reason: String)] = [
        (.array([]), "$", "Document must be an object, got array"),
        (["swagger": "3.0", "info": info, "paths": [:]], "$.swagger", "only Swagger \"2.0\" can be encoded, got \"3.0\""),
        (["swagger": "2.0", "info": info], "$", "Document requires \"paths\""),
        (["swagger": "2.0", "info": ["title": "t"], "paths": [:]], "$.info", "Info requires \"version\""),
        (["swagger": "2.0", "info": info, "paths": [:], "openapi": "3.0.0"], "$", "Document has no member \"openapi\""),
        (["swagger": "2.0", "info": info, "paths": ["p": [:]]], "$.paths", "a path must start with \"/\" (or be an x- extension), got \"p\""),
        (document(definitions: ["A": ["type": 7]]), "$.definitions[\"A\"].type", "type must be a string or an array of strings, got integer"),
        (
            document(definitions: ["A": ["additionalProperties": "yes"]]), "$.definitions[\"A\"].additionalProperties",
            "additionalProperties must be a schema or a boolean, got string"
        ),
        (document(definitions: ["A": ["items": true]]), "$.definitions[\"A\"].items", "items must be a schema or an array of schemas, got boolean"),
        (document(definitions: ["A": ["required": ["a", 1]]]), "$.definitions[\"A\"].required[1]", "expected a string, got integer"),
        (
            document(definitions: ["A": ["properties": ["b": ["nullable": true]]]]), "$.definitions[\"A\"].properties[\"b\"]",
            "Schema has no member \"nullable\""
        ),
        (document(definitions: ["A": ["default": ["x": .double(.infinity)]]]), "$.definitions[\"A\"].default[\"x\"]", "inf is not a finite number"),
        (document(definitions: ["A": ["maxLength": 1.5]]), "$.definitions[\"A\"].maxLength", "expected an integer, got number"),
        (document(definitions: ["A": ["readOnly": "true"]]), "$.definitions[\"A\"].readOnly", "expected a boolean, got string"),
        (document(definitions: ["A": "B"]), "$.definitions[\"A\"]", "Schema must be an object, got string"),
        (
            document(path: ["get": ["responses": ["ok": ["description": "d"]]]]), "$.paths[\"/p\"].get.responses",
            "a response is keyed by a three-digit status code or \"default\", not \"ok\""
        ),
        (document(path: ["get": ["responses": ["200": [:]]]]), "$.paths[\"/p\"].get.responses[\"200\"]", "Response requires \"description\""),
        (
            document(path: ["parameters": [["name": "c", "in": "cookie"]]]), "$.paths[\"/p\"].parameters[0].in",
            "a parameter is in body, header, formData, query or path, not \"cookie\""
        ),
        (document(path: ["parameters": [["name": "c"]]]), "$.paths[\"/p\"].parameters[0]", "Parameter requires \"in\""),
        (document(path: ["parameters": [["name": "b", "in": "body"]]]), "$.paths[\"/p\"].parameters[0]", "BodyParameter requires \"schema\""),
        (document(path: ["trace": [:]]), "$.paths[\"/p\"]", "PathItem has no member \"trace\""),
    ]

    @Test(arguments: refusals)
    func oddDocumentsAreRefusedWithThePlaceAndTheReason(document: JSONValue, path: String, reason: String) {
        #expect(throws: OpenAPIV2EncodingError(path: path, reason: reason)) { try OpenAPIV2Protobuf.encode(document) }
    }

    // MARK: - protoc

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "Fixtures/gnostic").path

    /// Decodes `bytes` as `openapi.v2.Document` with Debian's protoc; a
    /// malformed message or a field the .proto does not define fails the test
    /// (protoc exits non-zero, or prints the unknown field by number).
    static func protocDecode(_ bytes: [UInt8]) async throws -> String {
        let directory = try TemporaryDirectory(prefix: "capstan-oapi2")
        defer { directory.remove() }
        let input = directory.appending("document.pb")
        try Data(bytes).write(to: URL(fileURLWithPath: input))
        let script = "exec /usr/bin/protoc --decode=openapi.v2.Document -I \"$1\" OpenAPIv2.proto < \"$2\""
        let result = try await runCommand("/bin/sh", ["-c", script, "sh", fixtures, input])
        try #require(result.status == 0, "protoc failed: \(result.output)")
        return result.output
    }

    /// protoc's text format of the encoded ``document``, checked value by value.
    static let expectedText = #"""
        swagger: "2.0"
        info {
          title: "Kubernetes"
          version: "v1.32.0"
        }
        paths {
          path {
            name: "/api/v1/namespaces/{namespace}/pods/{name}"
            value {
              get {
                tags: "core_v1"
                description: "read the specified Pod"
                operation_id: "readCoreV1NamespacedPod"
                produces: "application/json"
                produces: "application/yaml"
                consumes: "*/*"
                responses {
                  response_code {
                    name: "200"
                    value {
                      response {
                        description: "OK"
                        schema {
                          schema {
                            _ref: "#/definitions/io.k8s.api.core.v1.Pod"
                          }
                        }
                      }
                    }
                  }
                  response_code {
                    name: "401"
                    value {
                      response {
                        description: "Unauthorized"
                      }
                    }
                  }
                }
                schemes: "https"
                vendor_extension {
                  name: "x-kubernetes-action"
                  value {
                    yaml: "get\n"
                  }
                }
                vendor_extension {
                  name: "x-kubernetes-group-version-kind"
                  value {
                    yaml: "{\"group\":\"\",\"kind\":\"Pod\",\"version\":\"v1\"}\n"
                  }
                }
              }
              patch {
                operation_id: "patchCoreV1NamespacedPod"
                consumes: "application/strategic-merge-patch+json"
                parameters {
                  parameter {
                    body_parameter {
                      name: "body"
                      in: "body"
                      required: true
                      schema {
                        _ref: "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
                      }
                    }
                  }
                }
                parameters {
                  parameter {
                    non_body_parameter {
                      query_parameter_sub_schema {
                        in: "query"
                        description: "fieldManager is a name"
                        name: "fieldManager"
                        type: "string"
                        unique_items: true
                      }
                    }
                  }
                }
                responses {
                  response_code {
                    name: "200"
                    value {
                      response {
                        description: "OK"
                      }
                    }
                  }
                }
                vendor_extension {
                  name: "x-kubernetes-action"
                  value {
                    yaml: "patch\n"
                  }
                }
              }
              parameters {
                json_reference {
                  _ref: "#/parameters/pretty-tJGM1-ng"
                }
              }
              parameters {
                parameter {
                  non_body_parameter {
                    path_parameter_sub_schema {
                      required: true
                      in: "path"
                      description: "name of the Pod"
                      name: "name"
                      type: "string"
                      unique_items: true
                    }
                  }
                }
              }
            }
          }
        }
        definitions {
          additional_properties {
            name: "io.k8s.api.core.v1.PodSpec"
            value {
              description: "PodSpec is a description of a pod."
              required: "containers"
              type {
                value: "object"
              }
              properties {
                additional_properties {
                  name: "containers"
                  value {
                    type {
                      value: "array"
                    }
                    items {
                      schema {
                        _ref: "#/definitions/io.k8s.api.core.v1.Container"
                      }
                    }
                    vendor_extension {
                      name: "x-kubernetes-list-map-keys"
                      value {
                        yaml: "[\"name\"]\n"
                      }
                    }
                    vendor_extension {
                      name: "x-kubernetes-list-type"
                      value {
                        yaml: "map\n"
                      }
                    }
                    vendor_extension {
                      name: "x-kubernetes-patch-merge-key"
                      value {
                        yaml: "name\n"
                      }
                    }
                    vendor_extension {
                      name: "x-kubernetes-patch-strategy"
                      value {
                        yaml: "merge\n"
                      }
                    }
                  }
                }
                additional_properties {
                  name: "nodeSelector"
                  value {
                    additional_properties {
                      schema {
                        default {
                          yaml: "\"\"\n"
                        }
                        type {
                          value: "string"
                        }
                      }
                    }
                    type {
                      value: "object"
                    }
                  }
                }
                additional_properties {
                  name: "restartPolicy"
                  value {
                    enum {
                      yaml: "Always\n"
                    }
                    enum {
                      yaml: "Never\n"
                    }
                    enum {
                      yaml: "OnFailure\n"
                    }
                    type {
                      value: "string"
                    }
                  }
                }
                additional_properties {
                  name: "terminationGracePeriodSeconds"
                  value {
                    format: "int64"
                    default {
                      yaml: "30\n"
                    }
                    max_length: 300
                    type {
                      value: "integer"
                    }
                  }
                }
                additional_properties {
                  name: "ratio"
                  value {
                    format: "double"
                    default {
                      yaml: "0.5\n"
                    }
                    minimum: -1.25
                    type {
                      value: "number"
                    }
                    read_only: true
                  }
                }
                additional_properties {
                  name: "enableServiceLinks"
                  value {
                    default {
                      yaml: "true\n"
                    }
                    type {
                      value: "boolean"
                    }
                  }
                }
              }
            }
          }
          additional_properties {
            name: "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
            value {
              description: "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body."
              type {
                value: "object"
              }
            }
          }
          additional_properties {
            name: "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"
            value {
              additional_properties {
                boolean: false
              }
              type {
                value: "object"
                value: "null"
              }
              all_of {
                _ref: "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
              }
              properties {
                additional_properties {
                  name: "x-kubernetes-preserve-unknown-fields"
                  value {
                    type {
                      value: "boolean"
                    }
                  }
                }
              }
            }
          }
          additional_properties {
            name: "io.k8s.apimachinery.pkg.runtime.RawExtension"
            value {
              additional_properties {
                boolean: true
              }
              type {
                value: "object"
              }
            }
          }
        }
        parameters {
          additional_properties {
            name: "pretty-tJGM1-ng"
            value {
              non_body_parameter {
                query_parameter_sub_schema {
                  in: "query"
                  description: "If \'true\', then the output is pretty printed."
                  name: "pretty"
                  type: "string"
                  unique_items: true
                }
              }
            }
          }
        }
        security {
          additional_properties {
            name: "BearerToken"
            value {
            }
          }
        }
        security_definitions {
          additional_properties {
            name: "BearerToken"
            value {
              api_key_security {
                type: "apiKey"
                name: "authorization"
                in: "header"
                description: "Bearer Token authentication"
              }
            }
          }
        }

        """#
}
