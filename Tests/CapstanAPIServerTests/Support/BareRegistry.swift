import CapstanAPI
import CapstanCore
import CapstanStore
import CapstanTestSupport
import Logging
import OrderedCollections

@testable import CapstanAPIServer

/// A registry alone (no server around it) over a real SQLite store in a
/// temporary directory, with `namespaces` created first.
func withBareRegistry(
    prefix: String, namespaces: [String] = [], mountsServiceAccountTokens: Bool = false, serviceNetwork: ServiceNetwork = .standard,
    _ body: (ResourceRegistry) async throws -> Void
) async throws {
    try await TemporaryDirectory.with(prefix: prefix) { directory in
        let store = try SQLiteStore(directory: directory.path, options: .init(durability: .normal), logger: Logger(label: "test"))
        defer { store.close() }
        let registry = ResourceRegistry(store: store, mountsServiceAccountTokens: mountsServiceAccountTokens, serviceNetwork: serviceNetwork)
        for name in namespaces {
            _ = try await registry.create(
                BuiltinKinds.namespace, namespace: nil, object: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]],
                options: WriteOptions(fieldManager: "test"))
        }
        try await body(registry)
    }
}
