import CapstanCore
import Testing

@testable import CapstanAPIServer

/// The catalog of served kinds, and discovery read from it.
@Suite struct KindCatalogTests {
    static func widgets(versions: [(String, Bool)] = [("v1", true), ("v1beta1", false)]) throws -> CustomResourceDefinition {
        let list: [JSONValue] = versions.map { name, storage in
            [
                "name": .string(name), "served": true, "storage": .bool(storage), "schema": ["openAPIV3Schema": ["type": "object"]],
                "subresources": ["status": [:], "scale": ["specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"]],
            ]
        }
        return try CustomResourceDefinition(
            [
                "metadata": ["name": "widgets.example.com"],
                "spec": [
                    "group": "example.com", "scope": "Cluster", "names": ["plural": "widgets", "kind": "Widget", "categories": ["all"]],
                    "versions": .array(list),
                ],
            ])
    }

    @Test func installedKindsAreServedAndRemovedOnesAreNot() throws {
        let catalog = KindCatalog()
        #expect(catalog.kind(group: "example.com", version: "v1", resource: "widgets") == nil)
        catalog.install(try Self.widgets())
        let info = try #require(catalog.kind(group: "example.com", version: "v1", resource: "widgets"))
        #expect(info.kind == "Widget" && !info.namespaced)
        #expect(catalog.kind(group: "example.com", version: "v1beta1", resource: "widgets") != nil)
        #expect(catalog.lookup(apiVersion: "example.com/v1", kind: "Widget") == info)
        #expect(catalog.custom(info)?.version.hasStatusSubresource == true)
        #expect(catalog.custom(BuiltinKinds.pod) == nil)
        catalog.remove(definitionNamed: "widgets.example.com")
        #expect(catalog.kind(group: "example.com", version: "v1", resource: "widgets") == nil)
        #expect(catalog.all == BuiltinKinds.all)
    }

    @Test func discoveryListsCustomGroupsWithThePreferredVersionFirst() throws {
        let catalog = KindCatalog()
        catalog.install(try Self.widgets(versions: [("v1beta1", false), ("v1", true), ("v1alpha2", false)]))
        let group = try #require(Discovery.group(named: "example.com", catalog))
        #expect(group["preferredVersion"]?["version"] == "v1")
        #expect(group["versions"]?.arrayValue?.compactMap { $0["version"]?.stringValue } == ["v1", "v1beta1", "v1alpha2"])

        let list = try #require(Discovery.resourceList(group: "example.com", version: "v1beta1", catalog))
        let resources = list["resources"]?.arrayValue ?? []
        #expect(resources.compactMap { $0["name"]?.stringValue } == ["widgets", "widgets/status", "widgets/scale"])
        #expect(resources.last?["kind"] == "Scale")
        #expect(resources.first?["categories"] == ["all"])

        let aggregated = Discovery.aggregated(core: false, catalog)
        let item = aggregated["items"]?.arrayValue?.first { $0[path: ["metadata", "name"]] == "example.com" }
        #expect(item?["versions"]?.arrayValue?.count == 3)
        #expect(Discovery.group(named: "example.com", KindCatalog()) == nil)
    }

    @Test(arguments: [
        ("v1", "v2", false), ("v2", "v1", true), ("v1", "v1beta1", true), ("v1beta2", "v1beta1", true), ("v1beta1", "v1alpha1", true),
        ("v1alpha1", "foo", true), ("abc", "abd", true),
    ])
    func versionPriority(_ lhs: String, _ rhs: String, _ preferred: Bool) {
        #expect(Discovery.isPreferred(lhs, over: rhs) == preferred)
    }
}
