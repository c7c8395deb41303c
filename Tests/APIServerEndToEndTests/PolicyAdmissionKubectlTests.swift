import CapstanTestSupport
import Foundation
import Testing

/// Capstan's default policies as validating admission, through the real
/// kubectl: a manifest the GitOps gate refuses is refused by `kubectl apply`
/// too, in the same words.
@Suite struct PolicyAdmissionKubectlTests {
    private static let privilegedPod = """
        apiVersion: v1
        kind: Pod
        metadata: {name: root, namespace: default}
        spec:
          containers:
            - name: c
              image: localhost/capstan/busybox:1.36
              securityContext: {privileged: true}
        """

    /// The project's `policies/`, Capstan's defaults.
    private static let policiesFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appending(path: "policies").path

    /// The lines of `output` from the first `Pod default/root: policy pod-security-baseline:` on.
    private static func baselineFindings(_ output: String) -> [String] {
        output.split(separator: "\n").compactMap { line in
            line.range(of: "Pod default/root: policy pod-security-baseline: ").map { String(line[$0.lowerBound...]) }
        }
    }

    @Test func kubectlApplyOfAPrivilegedPodIsRefusedInTheGatesWords() async throws {
        // No flag: the server loads Capstan's default policies, as the GitOps gate does.
        let server = try await RunningServer()
        defer { server.stop() }
        let file = try server.write("privileged-pod.yaml", Self.privilegedPod)

        let validated = try await runCommand(RunningServer.capstanBinary, ["validate", "--policies", Self.policiesFolder, file])
        #expect(validated.status == 1, "\(validated.output)")
        let gate = Self.baselineFindings(validated.output)
        #expect(gate.count == 1 && gate[0].contains("validation error: Privileged mode is disallowed."), "\(validated.output)")

        for dryRun in [["--dry-run=server"], []] {
            let applied = try await server.kubectl(kubeconfig: server.kubeconfig, ["apply"] + dryRun + ["-f", file])
            #expect(applied.status != 0, "\(applied.output)")
            #expect(
                applied.output.contains(
                    "Error from server (Forbidden): error when creating \"\(file)\": admission policy denied the request: Pod default/root: "),
                "\(applied.output)")
            #expect(Self.baselineFindings(applied.output) == gate, "\(dryRun): \(applied.output)")
        }
        let read = try await server.kubectl("get", "pod", "root")
        #expect(read.status != 0 && read.output.contains("pods \"root\" not found"), "\(read.output)")
    }

    @Test func admissionPoliciesNoneLetsThePodThrough() async throws {
        let server = try await RunningServer(arguments: ["--admission-policies", "none"])
        defer { server.stop() }
        let file = try server.write("privileged-pod.yaml", Self.privilegedPod)
        let applied = try await server.kubectl("apply", "-f", file)
        #expect(applied.status == 0 && applied.output.contains("pod/root created"), "\(applied.output)")
    }
}
