import CapstanTestSupport
import Foundation
import Testing

/// kubectl's own validation path against Capstan: it reads `/openapi/v3`,
/// sees that the server validates fields, sends `fieldValidation=Strict`,
/// and prints what the server answers — as against Kubernetes.
@Suite struct FieldValidationKubectlTests {
    private static let misspelled = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          replica: 3
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers: [{name: c, image: nginx}]
        """

    @Test func kubectlApplyRefusesAMisspelledFieldAndWarnModeDropsIt() async throws {
        let server = try await RunningServer()
        defer { server.stop() }
        let file = try server.write("web.yaml", Self.misspelled)
        var result = try await server.kubectl("apply", "-f", file)
        #expect(result.status != 0)
        #expect(
            result.output.contains(
                "Error from server (BadRequest): error when creating \"\(file)\": Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.replica\""
            ), "\(result.output)")
        result = try await server.kubectl("get", "deployment", "web")
        #expect(result.status != 0 && result.output.contains("deployments.apps \"web\" not found"), "\(result.output)")

        result = try await server.kubectl("apply", "--validate=warn", "-f", file)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("Warning: unknown field \"spec.replica\""), "\(result.output)")
        result = try await server.kubectl("get", "deployment", "web", "-o", "jsonpath={.spec.selector.matchLabels.app}/{.spec.replica}")
        #expect(result.output == "web/", "\(result.output)")
    }

    /// kubectl checks a kind it cannot find in /openapi/v3 against /openapi/v2
    /// (protobuf) and the CRDs, then says what Kubernetes' kubectl says.
    @Test func kubectlApplyOfAMisspelledKindSaysNoMatches() async throws {
        let server = try await RunningServer()
        defer { server.stop() }
        let file = try server.write("typo.yaml", Self.misspelled.replacingOccurrences(of: "kind: Deployment", with: "kind: Deploymnet"))
        let result = try await server.kubectl("apply", "-f", file)
        #expect(result.status != 0)
        #expect(
            result.output.contains(
                "resource mapping not found for name: \"web\" namespace: \"\" from \"\(file)\": no matches for kind \"Deploymnet\" in version \"apps/v1\""
            ), "\(result.output)")
    }

    /// With a schema for client-side strategic merge patches, a changed
    /// manifest is applied as a patch without a warning about the spec.
    @Test func kubectlApplyPatchesAnExistingObjectQuietly() async throws {
        // Quiet about fields: the default policies' Audit warnings on this Deployment are PolicyAdmissionTests' subject.
        let server = try await RunningServer(arguments: ["--admission-policies", "none"])
        defer { server.stop() }
        let valid = Self.misspelled.replacingOccurrences(of: "replica: 3", with: "replicas: 3")
        let file = try server.write("web.yaml", valid)
        var result = try await server.kubectl("apply", "-f", file)
        #expect(result.status == 0 && result.output == "deployment.apps/web created\n", "\(result.output)")
        _ = try server.write("web.yaml", valid.replacingOccurrences(of: "replicas: 3", with: "replicas: 2"))
        result = try await server.kubectl("apply", "-f", file)
        #expect(result.status == 0 && result.output == "deployment.apps/web configured\n", "\(result.output)")
        result = try await server.kubectl("get", "deployment", "web", "-o", "jsonpath={.spec.replicas}")
        #expect(result.output == "2", "\(result.output)")
    }
}
