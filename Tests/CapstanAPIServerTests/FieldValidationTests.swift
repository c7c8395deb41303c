import CapstanAPI
import CapstanCore
import OrderedCollections
import Testing

@testable import CapstanAPIServer

/// `fieldValidation` as Kubernetes honours it: Strict refuses unknown fields,
/// Warn (the default) drops them with a `Warning`, Ignore drops them silently;
/// a value of the wrong type is refused whatever the directive.
@Suite struct FieldValidationTests {
    private static let path = "/apis/apps/v1/namespaces/default/deployments"

    private static func deployment(_ name: String, extra: (inout JSONValue) -> Void = { _ in }) -> JSONValue {
        var object: JSONValue = [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": .string(name)],
            "spec": [
                "replicas": 1, "selector": ["matchLabels": ["app": "a"]],
                "template": ["metadata": ["labels": ["app": "a"]], "spec": ["containers": [["name": "c", "image": "nginx"]]]],
            ],
        ]
        extra(&object)
        return object
    }

    private static func withTypo(_ name: String) -> JSONValue {
        deployment(name) { $0[path: ["spec", "replica"]] = 3 }
    }

    @Test func strictRefusesUnknownFieldsWithKubernetesMessage() async throws {
        try await InProcessServer.with { server in
            // Reported in document order: `replica` is added after `template`.
            let typos = Self.deployment("web") {
                $0[path: ["spec", "replica"]] = 3
                $0[path: ["spec", "template", "spec", "containers"]] = [["name": "c", "image": "nginx", "imagee": "x"]]
            }
            let response = try await server.request("POST", Self.path + "?fieldValidation=Strict", json: typos)
            #expect(response.status == 400)
            #expect(response.json?["reason"] == "BadRequest")
            #expect(
                response.json?["message"]
                    == "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.template.spec.containers[0].imagee\", unknown field \"spec.replica\""
            )
            let missing = try await server.request("GET", Self.path + "/web")
            #expect(missing.status == 404)
        }
    }

    @Test func warnDropsUnknownFieldsAndSaysSo() async throws {
        try await InProcessServer.with { server in
            // No directive: Warn, as in Kubernetes.
            for (name, query) in [("a", ""), ("b", "?fieldValidation=Warn")] {
                let response = try await server.request("POST", Self.path + query, json: Self.withTypo(name))
                #expect(response.status == 201)
                #expect(response.headers["warning"] == "299 - \"unknown field \\\"spec.replica\\\"\"")
                #expect(response.json?[path: ["spec", "replica"]] == nil)
                let stored = try await server.request("GET", Self.path + "/" + name)
                #expect(stored.json?[path: ["spec", "replica"]] == nil)
                #expect(stored.json?[path: ["spec", "replicas"]] == 1)
            }
        }
    }

    @Test func ignoreDropsUnknownFieldsSilently() async throws {
        try await InProcessServer.with { server in
            let response = try await server.request("POST", Self.path + "?fieldValidation=Ignore", json: Self.withTypo("web"))
            #expect(response.status == 201)
            #expect(response.headers["warning"] == nil)
            #expect(response.json?[path: ["spec", "replica"]] == nil)
        }
    }

    @Test func aWronglyTypedValueIsRefusedWhateverTheDirective() async throws {
        try await InProcessServer.with { server in
            for directive in FieldValidation.allCases {
                let body = Self.deployment("web") { $0[path: ["spec", "replicas"]] = "3" }
                let response = try await server.request("POST", Self.path + "?fieldValidation=" + directive.rawValue, json: body)
                #expect(response.status == 400)
                #expect(
                    response.json?["message"]
                        == "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"
                )
            }
        }
    }

    @Test func anUnknownDirectiveIsABadRequest() async throws {
        try await InProcessServer.with { server in
            let response = try await server.request("POST", Self.path + "?fieldValidation=strict", json: Self.deployment("web"))
            #expect(response.status == 400)
            #expect(response.json?["message"] == "fieldValidation must be one of \"Strict\", \"Warn\" or \"Ignore\", not \"strict\"")
        }
    }

    /// Patches and server-side apply are checked on what they would store,
    /// and an apply names the unknown field rather than a conflict over it.
    @Test func patchesAndAppliesAreCheckedToo() async throws {
        try await InProcessServer.with { server in
            #expect(try await server.request("POST", Self.path, json: Self.deployment("web")).status == 201)
            let connection = try server.connect()
            let merge = try await connection.request(
                "PATCH", Self.path + "/web?fieldValidation=Strict", body: Array(#"{"spec":{"replica":3}}"#.utf8),
                contentType: "application/merge-patch+json")
            #expect(merge.status == 400)
            #expect(merge.json?["message"]?.stringValue?.hasSuffix("strict decoding error: unknown field \"spec.replica\"") == true)
            let apply = try await server.connect().request(
                "PATCH", Self.path + "/web?fieldManager=other&fieldValidation=Strict",
                body: JSONSerializer.bytes(Self.withTypo("web")), contentType: "application/apply-patch+yaml")
            #expect(apply.status == 400)
            #expect(apply.json?["message"]?.stringValue?.hasSuffix("strict decoding error: unknown field \"spec.replica\"") == true)
        }
    }

    /// An object stored with a field before the schema was checked can still
    /// be updated: what the writer did not add is dropped without a word.
    @Test func fieldsAlreadyStoredAreDroppedWithoutComplaint() async throws {
        try await InProcessServer.with { server in
            let registry = server.registry
            let options = WriteOptions(fieldManager: "test", fieldValidation: .strict)
            let old = Self.withTypo("web")
            let current = try await registry.create(
                BuiltinKinds.deployment, namespace: "default", object: Self.deployment("web"), options: options)
            var next = current
            next[path: ["spec", "replicas"]] = 2
            let decoded = try registry.decoded(next, BuiltinKinds.deployment, old: old, options)
            #expect(decoded == next)
            var withOldTypo = next
            withOldTypo[path: ["spec", "replica"]] = 3
            #expect(try registry.decoded(withOldTypo, BuiltinKinds.deployment, old: old, options) == next)
            #expect(throws: APIError.self) { try registry.decoded(withOldTypo, BuiltinKinds.deployment, old: current, options) }
        }
    }
}
