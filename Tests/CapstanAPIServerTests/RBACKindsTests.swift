import CapstanAPI
import CapstanCore
import CapstanStore
import CapstanTestSupport
import Foundation
import Logging
import Testing

@testable import CapstanAPIServer

/// The four `rbac.authorization.k8s.io/v1` kinds are served, validated as
/// Kubernetes validates them, and listed in discovery.
@Suite struct RBACKindsTests {
    private func withRegistry(_ body: (ResourceRegistry) async throws -> Void) async throws {
        try await withBareRegistry(prefix: "capstan-rbac", namespaces: ["demo"], body)
    }

    private let writer = WriteOptions(fieldManager: "test")

    static func role(_ rules: JSONValue, name: String = "reader") -> JSONValue {
        ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": ["name": .string(name), "namespace": "demo"], "rules": rules]
    }

    static func binding(roleKind: String = "Role", roleName: String = "reader", subjects: JSONValue? = nil) -> JSONValue {
        [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": ["name": "read", "namespace": "demo"],
            "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": .string(roleKind), "name": .string(roleName)],
            "subjects": subjects ?? [["kind": "ServiceAccount", "name": "default", "namespace": "demo"]],
        ]
    }

    struct InvalidCase: Sendable, CustomTestStringConvertible {
        var object: JSONValue
        var message: String
        var testDescription: String { message }
    }

    static let invalid: [InvalidCase] = [
        .init(
            object: role([["apiGroups": [""], "resources": ["pods"]]]),
            message: "rules[0].verbs: Required value: verbs must contain at least one value"),
        .init(
            object: role([["verbs": ["get"], "resources": ["pods"]]]),
            message: "rules[0].apiGroups: Required value: resource rules must supply at least one api group"),
        .init(
            object: role([["verbs": ["get"], "apiGroups": [""]]]),
            message: "rules[0].resources: Required value: resource rules must supply at least one resource"),
        .init(
            object: role([["verbs": ["get"], "nonResourceURLs": ["/healthz"]]]),
            message: "rules[0].nonResourceURLs: Invalid value: [\"/healthz\"]: namespaced rules cannot apply to non-resource URLs"),
        .init(object: role([], name: "a/b"), message: "metadata.name: Invalid value: \"a/b\": may not contain '/'"),
        .init(
            object: binding(roleKind: "Secret"), message: "roleRef.kind: Unsupported value: \"Secret\": supported values: \"Role\", \"ClusterRole\""),
        .init(
            object: binding(subjects: [["kind": "Robot", "name": "r2"]]),
            message: "subjects[0].kind: Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\""),
        .init(
            object: binding(subjects: [["kind": "User", "name": "jane"]]),
            message: "subjects[0].apiGroup: Unsupported value: \"\": supported values: \"rbac.authorization.k8s.io\""),
    ]

    @Test(arguments: invalid)
    func invalidObjectsAreRefusedWithKubernetesMessages(_ row: InvalidCase) async throws {
        try await withRegistry { registry in
            let info = row.object["kind"]?.stringValue == "Role" ? BuiltinKinds.role : BuiltinKinds.roleBinding
            do {
                _ = try await registry.create(info, namespace: "demo", object: row.object, options: writer)
                Issue.record("created \(row.object)")
            } catch let error as APIError {
                #expect(error.code == 422 && error.message.contains(row.message), "\(error.message)")
            }
        }
    }

    @Test func clusterRoleNamesMayHoldColonsAndRulesNonResourceURLs() async throws {
        try await withRegistry { registry in
            let role: JSONValue = [
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": ["name": "system:probe-reader"],
                "rules": [["verbs": ["get"], "nonResourceURLs": ["/healthz", "/readyz/*"]]],
            ]
            let created = try await registry.create(BuiltinKinds.clusterRole, namespace: nil, object: role, options: writer)
            #expect(created[path: ["metadata", "name"]] == "system:probe-reader")
            let aggregated: JSONValue = [
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": ["name": "empty-aggregation"],
                "aggregationRule": ["clusterRoleSelectors": []],
            ]
            do {
                _ = try await registry.create(BuiltinKinds.clusterRole, namespace: nil, object: aggregated, options: writer)
                Issue.record("an aggregationRule without selectors was accepted")
            } catch let error as APIError {
                #expect(error.message.contains("aggregationRule.clusterRoleSelectors: Required value"), "\(error.message)")
            }
        }
    }

    @Test func roleRefCannotChangeButSubjectsCan() async throws {
        try await withRegistry { registry in
            _ = try await registry.create(BuiltinKinds.roleBinding, namespace: "demo", object: Self.binding(), options: writer)
            var stored = try await registry.get(BuiltinKinds.roleBinding, namespace: "demo", name: "read")
            stored["subjects"] = [["kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "devs"]]
            stored = try await registry.update(BuiltinKinds.roleBinding, namespace: "demo", name: "read", object: stored, options: writer)
            #expect(stored[path: ["subjects"]]?.arrayValue?.count == 1)
            stored[path: ["roleRef", "name"]] = "admin"
            stored[path: ["roleRef", "kind"]] = "ClusterRole"
            do {
                _ = try await registry.update(BuiltinKinds.roleBinding, namespace: "demo", name: "read", object: stored, options: writer)
                Issue.record("roleRef changed")
            } catch let error as APIError {
                #expect(
                    error.code == 422 && error.message.contains("roleRef: Invalid value") && error.message.contains("cannot change roleRef"),
                    "\(error.message)")
            }
        }
    }

    @Test func discoveryListsTheRBACGroup() throws {
        let list = try #require(Discovery.resourceList(group: "rbac.authorization.k8s.io", version: "v1", KindCatalog()))
        let names = list["resources"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(names == ["roles", "clusterroles", "rolebindings", "clusterrolebindings"])
        let namespaced = list["resources"]?.arrayValue?.compactMap { $0["namespaced"]?.boolValue } ?? []
        #expect(namespaced == [true, false, true, false])
        #expect(KubernetesSchemas.definitionName(of: BuiltinKinds.clusterRoleBinding) == "io.k8s.api.rbac.v1.ClusterRoleBinding")
    }
}
