import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

/// What the server adds to every write, seen through the real kubectl.
@Suite(.serialized) struct WriteDefaultsEndToEndTests {
    @Test func kubectlSeesTheQoSClassAndTheSecretsFoldedStringData() async throws {
        let server = try await RunningServer()
        defer { server.stop() }

        let pod = try server.write(
            "pod.yaml",
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: sized}
            spec:
              containers:
              - name: c
                image: localhost/capstan/busybox:1.35
                resources:
                  limits: {cpu: 250m, memory: 32Mi}
            """)
        var result = try await server.kubectl("create", "-f", pod)
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl("get", "pod", "sized", "-o", "jsonpath={.status.qosClass} {.status.phase}")
        #expect(result.output == "Guaranteed Pending", "\(result.output)")

        let secret = try server.write(
            "secret.yaml",
            """
            apiVersion: v1
            kind: Secret
            metadata: {name: db}
            stringData:
              password: hunter2
            """)
        result = try await server.kubectl("apply", "-f", secret)
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl("get", "secret", "db", "-o", "jsonpath={.data.password}")
        let decoded = try await runCommand("/usr/bin/base64", ["-d"], input: result.output)
        #expect(decoded.status == 0 && decoded.output == "hunter2", "\(result.output) → \(decoded.output)")
        result = try await server.kubectl("get", "secret", "db", "-o", "jsonpath={.stringData}")
        #expect(result.status == 0 && result.output.isEmpty, "\(result.output)")

        result = try await server.kubectl("get", "secret", "missing")
        #expect(result.status != 0 && result.output.contains(#"Error from server (NotFound): secrets "missing" not found"#), "\(result.output)")
    }
}
