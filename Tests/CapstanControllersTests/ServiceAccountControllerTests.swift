import CapstanAPI
import CapstanAPIServer
import CapstanClient
import CapstanControllers
import CapstanCore
import CapstanTestSupport
import CapstanTesting
import Logging
import Testing

@Suite struct ServiceAccountControllerTests {
    /// Resync far off, so what the tests see comes from the change routing, not a periodic pass.
    private let quiet = ControllerManager.Configuration(resyncInterval: .seconds(3600))

    private func defaultAccount(_ client: InProcessClient, in namespace: String) async throws -> ServiceAccount? {
        do {
            return try await client.get(ServiceAccount.self, namespace: namespace, name: "default")
        } catch let error as APIError where error.code == 404 {
            return nil
        }
    }

    @Test func everyNamespaceGetsADefaultServiceAccount() async throws {
        try await withCluster(configuration: quiet) { client in
            _ = try await client.create(
                Namespace.kindInfo, namespace: nil, object: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "team"]],
                options: writer)
            try await eventually("team gets its default account") { try await defaultAccount(client, in: "team") != nil }
        }
    }

    @Test func namespacesThatExistedBeforeTheControllerGetOneToo() async throws {
        try await withInProcessRegistry(prefix: "capstan-serviceaccounts") { registry, _ in
            let client = InProcessClient(registry: registry)
            _ = try await client.create(
                Namespace.kindInfo, namespace: nil, object: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "older"]],
                options: writer)
            let manager = ControllerManager(client: client, configuration: quiet, logger: Logger(label: "test"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await manager.run() }
                // The controller's first list of namespaces queues it.
                try await eventually("older gets its default account") { try await defaultAccount(client, in: "older") != nil }
                group.cancelAll()
            }
        }
    }

    @Test func aDeletedDefaultServiceAccountComesBack() async throws {
        try await withCluster(configuration: quiet) { client in
            _ = try await client.create(
                Namespace.kindInfo, namespace: nil, object: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "team"]],
                options: writer)
            try await eventually("team gets its default account") { try await defaultAccount(client, in: "team") != nil }
            let first = try #require(try await defaultAccount(client, in: "team")).metadata.uid
            _ = try await client.delete(ServiceAccount.kindInfo, namespace: "team", name: "default", options: DeleteOptions())
            try await eventually("a new default account replaces the deleted one") {
                guard let again = try await defaultAccount(client, in: "team") else { return false }
                return again.metadata.uid != first
            }
        }
    }

    @Test func aDeletedNamespaceGoesWithItsDefaultServiceAccount() async throws {
        try await withCluster(configuration: quiet) { client in
            _ = try await client.create(
                Namespace.kindInfo, namespace: nil, object: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "team"]],
                options: writer)
            try await eventually("team gets its default account") { try await defaultAccount(client, in: "team") != nil }
            _ = try await client.delete(Namespace.kindInfo, namespace: nil, name: "team", options: DeleteOptions())
            try await eventually("the namespace is gone") {
                do {
                    _ = try await client.get(Namespace.kindInfo, namespace: nil, name: "team")
                    return false
                } catch let error as APIError {
                    return error.code == 404
                }
            }
            #expect(try await defaultAccount(client, in: "team") == nil)
        }
    }
}
