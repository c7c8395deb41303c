import CapstanAPI
import CapstanCore
import CapstanStore
import CapstanTestSupport
import Foundation
import Logging
import Testing

@testable import CapstanAPIServer

/// The registry's part of namespace deletion (the namespace controller does
/// the rest) and the tolerations new pods get.
@Suite struct NamespaceLifecycleTests {
    private let writer = WriteOptions(fieldManager: "test")

    private func withRegistry(defaultTolerationSeconds: Int64 = 300, _ body: (ResourceRegistry) async throws -> Void) async throws {
        try await TemporaryDirectory.with(prefix: "capstan-nslife") { directory in
            let store = try SQLiteStore(directory: directory.path, options: .init(durability: .normal), logger: Logger(label: "test"))
            defer { store.close() }
            var configuration = APIServer.Configuration(capstanVersion: "test")
            configuration.defaultTolerationSeconds = defaultTolerationSeconds
            let security = try ServerSecurity.prepare(dataDirectory: directory.appending("security"), tls: false, names: [])
            let server = APIServer(configuration: configuration, store: store, backend: "sqlite", security: security, logger: Logger(label: "test"))
            try await server.ensureBuiltinNamespaces()
            try await body(server.registry)
        }
    }

    private func namespace(_ name: String) -> JSONValue { ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]] }

    private func configMap(_ name: String) -> JSONValue {
        ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name)], "data": ["a": "1"]]
    }

    @Test func aNewNamespaceIsActiveWithTheKubernetesFinalizer() async throws {
        try await withRegistry { registry in
            let created = try await registry.create(BuiltinKinds.namespace, namespace: nil, object: namespace("team"), options: writer)
            #expect(created[path: ["spec", "finalizers"]] == ["kubernetes"])
            #expect(created[path: ["status", "phase"]] == "Active")
            let builtin = try await registry.get(BuiltinKinds.namespace, namespace: nil, name: "default")
            #expect(builtin[path: ["spec", "finalizers"]] == ["kubernetes"])
        }
    }

    @Test func deletingMarksTerminatingAndFinalizeRemovesIt() async throws {
        try await withRegistry { registry in
            _ = try await registry.create(BuiltinKinds.namespace, namespace: nil, object: namespace("team"), options: writer)
            _ = try await registry.create(BuiltinKinds.configMap, namespace: "team", object: configMap("before"), options: writer)
            guard case .pending(let marked) = try await registry.delete(BuiltinKinds.namespace, namespace: nil, name: "team") else {
                Issue.record("a namespace with the kubernetes finalizer must only be marked")
                return
            }
            #expect(marked[path: ["status", "phase"]] == "Terminating")
            #expect(marked[path: ["metadata", "deletionTimestamp"]] != nil)

            // Nothing new may be created in it; what is there can still be read and deleted.
            do {
                _ = try await registry.create(BuiltinKinds.configMap, namespace: "team", object: configMap("after"), options: writer)
                Issue.record("creating in a terminating namespace must fail")
            } catch let error as APIError {
                #expect(error.code == 403)
                #expect(error.reason == "Forbidden")
                #expect(
                    error.message
                        == #"configmaps "after" is forbidden: unable to create new content in namespace team because it is being terminated"#)
            }
            _ = try await registry.delete(BuiltinKinds.configMap, namespace: "team", name: "before")

            // An ordinary update cannot drop the finalizer; only finalize can.
            var stored = try await registry.get(BuiltinKinds.namespace, namespace: nil, name: "team")
            stored[path: ["spec", "finalizers"]] = .array([])
            stored = try await registry.update(BuiltinKinds.namespace, namespace: nil, name: "team", object: stored, options: writer)
            #expect(stored[path: ["spec", "finalizers"]] == ["kubernetes"])
            stored[path: ["spec", "finalizers"]] = .array([])
            _ = try await registry.update(
                BuiltinKinds.namespace, namespace: nil, name: "team", object: stored, options: writer, subresource: "finalize")
            await #expect(throws: APIError.self) { try await registry.get(BuiltinKinds.namespace, namespace: nil, name: "team") }
        }
    }

    @Test(arguments: ["default", "kube-system", "kube-public", "kube-node-lease", "capstan-system"])
    func systemNamespacesCannotBeDeleted(_ name: String) async throws {
        try await withRegistry { registry in
            if (try? await registry.get(BuiltinKinds.namespace, namespace: nil, name: name)) == nil {
                _ = try await registry.create(BuiltinKinds.namespace, namespace: nil, object: namespace(name), options: writer)
            }
            do {
                _ = try await registry.delete(BuiltinKinds.namespace, namespace: nil, name: name)
                Issue.record("deleting \(name) must fail")
            } catch let error as APIError {
                #expect(error.code == 403)
                #expect(error.message == #"namespaces "\#(name)" is forbidden: this namespace may not be deleted"#)
            }
            let kept = try await registry.get(BuiltinKinds.namespace, namespace: nil, name: name)
            #expect(kept[path: ["metadata", "deletionTimestamp"]] == nil)
        }
    }

    @Test func newPodsTolerateNotReadyAndUnreachableNodesForTheDefaultSeconds() async throws {
        try await withRegistry(defaultTolerationSeconds: 7) { registry in
            let plain: JSONValue = [
                "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "plain"], "spec": ["containers": [["name": "c", "image": "x"]]],
            ]
            let created = try await registry.create(BuiltinKinds.pod, namespace: "default", object: plain, options: writer)
            #expect(
                created[path: ["spec", "tolerations"]] == [
                    ["key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 7],
                    ["key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 7],
                ])
            // A pod that already tolerates one of them (here: every taint) keeps its own and gets nothing for it.
            let tolerant: JSONValue = [
                "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "tolerant"],
                "spec": [
                    "containers": [["name": "c", "image": "x"]],
                    "tolerations": [["key": "node.kubernetes.io/unreachable", "operator": "Exists"]],
                ],
            ]
            let kept = try await registry.create(BuiltinKinds.pod, namespace: "default", object: tolerant, options: writer)
            #expect(
                kept[path: ["spec", "tolerations"]] == [
                    ["key": "node.kubernetes.io/unreachable", "operator": "Exists"],
                    ["key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 7],
                ])
        }
    }
}
