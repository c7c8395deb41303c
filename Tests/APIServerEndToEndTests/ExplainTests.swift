import CapstanTestSupport
import Testing

@Suite struct ExplainTests {
    @Test func kubectlExplainReadsTheServedSchemas() async throws {
        let server = try await RunningServer()
        defer { server.stop() }
        var result = try await server.kubectl("explain", "deployment.spec.replicas")
        #expect(
            result.status == 0 && result.output.contains("FIELD: replicas <integer>") && result.output.contains("Number of desired pods"),
            "\(result.output)")
        // Nested types come from Kubernetes' own schemas, with their docs.
        result = try await server.kubectl("explain", "deployment.spec.strategy")
        #expect(
            result.status == 0 && result.output.contains("FIELD: strategy <DeploymentStrategy>")
                && result.output.contains("rollingUpdate\t<RollingUpdateDeployment>")
                && result.output.contains("Rolling update config params. Present only if DeploymentStrategyType ="),
            "\(result.output)")
        result = try await server.kubectl("explain", "configmap")
        #expect(result.status == 0 && result.output.contains("data\t<map[string]string>"), "\(result.output)")
        result = try await server.kubectl("explain", "pods.spec.nosuchfield")
        #expect(result.status != 0 && result.output.contains("nosuchfield"), "\(result.output)")
        // The imperative generators send protobuf, which the server reads (ProtobufTests has the rest).
        result = try await server.kubectl("create", "configmap", "x", "--from-literal=a=b")
        #expect(result.status == 0 && result.output.contains("configmap/x created"), "\(result.output)")
    }
}
