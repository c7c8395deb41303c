import CapstanAPI
import CapstanAPIServer
import CapstanClient
import CapstanControllers
import CapstanCore
import CapstanTestSupport
import CapstanTesting
import OrderedCollections
import Testing

@Suite struct RootCAPublisherTests {
    static let certificate = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

    private func published(_ client: InProcessClient, in namespace: String) async throws -> String? {
        do {
            let configMap = try await client.get(ConfigMap.kindInfo, namespace: namespace, name: "kube-root-ca.crt")
            return configMap["data"]?["ca.crt"]?.stringValue
        } catch let error as APIError where error.code == 404 {
            return nil
        }
    }

    private func createNamespace(_ client: InProcessClient, _ name: String) async throws {
        _ = try await client.create(
            Namespace.kindInfo, namespace: nil, object: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]],
            options: writer)
    }

    @Test func everyNamespaceGetsTheCertificate() async throws {
        var configuration = ControllerManager.Configuration(resyncInterval: .seconds(3600))
        configuration.rootCertificate = Self.certificate
        try await withCluster(configuration: configuration) { client in
            try await createNamespace(client, "team")
            try await eventually("team gets kube-root-ca.crt") { try await published(client, in: "team") == Self.certificate }
            let configMap = try await client.get(ConfigMap.kindInfo, namespace: "team", name: "kube-root-ca.crt")
            #expect(
                configMap[path: ["metadata", "annotations", "kubernetes.io/description"]]?.stringValue?.hasPrefix("Contains a CA bundle") == true)
        }
    }

    @Test func aChangedCertificateIsPutBack() async throws {
        // The ConfigMap has no watch of its own: the periodic pass restores it.
        var configuration = ControllerManager.Configuration(resyncInterval: .milliseconds(200))
        configuration.rootCertificate = Self.certificate
        try await withCluster(configuration: configuration) { client in
            try await createNamespace(client, "team")
            try await eventually("team gets kube-root-ca.crt") { try await published(client, in: "team") == Self.certificate }
            var edited = try #require(try await client.get(ConfigMap.kindInfo, namespace: "team", name: "kube-root-ca.crt").objectValue)
            edited["data"] = ["ca.crt": "not the CA"]
            let written = try await client.update(
                ConfigMap.kindInfo, namespace: "team", name: "kube-root-ca.crt", object: .object(edited), options: writer)
            #expect(written["data"]?["ca.crt"] == "not the CA")
            try await eventually("the certificate is back") { try await published(client, in: "team") == Self.certificate }
        }
    }

    @Test func withoutACertificateNothingIsPublished() async throws {
        try await withCluster(configuration: ControllerManager.Configuration(resyncInterval: .milliseconds(200))) { client in
            try await createNamespace(client, "team")
            // The service-account controller, run by the same manager, is the event to wait for.
            try await eventually("team gets its default account") {
                (try? await client.get(ServiceAccount.kindInfo, namespace: "team", name: "default")) != nil
            }
            #expect(try await published(client, in: "team") == nil)
        }
    }
}
