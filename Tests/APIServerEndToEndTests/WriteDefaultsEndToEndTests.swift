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

extension WriteDefaultsEndToEndTests {
    /// LimitRange defaults and bounds, and a ResourceQuota counting pods, through kubectl.
    @Test func limitRangesAndQuotasAreEnforcedWithKubernetesMessages() async throws {
        let server = try await RunningServer()
        defer { server.stop() }
        func pod(_ name: String, resources: String = "") -> String {
            "apiVersion: v1\nkind: Pod\nmetadata: {name: \(name)}\nspec:\n  containers:\n  - name: c\n    image: localhost/capstan/busybox:1.35\n\(resources)"
        }
        let limits = try server.write(
            "limits.yaml",
            """
            apiVersion: v1
            kind: LimitRange
            metadata: {name: bounds}
            spec:
              limits:
              - type: Container
                default: {cpu: 200m, memory: 64Mi}
                defaultRequest: {cpu: 100m, memory: 32Mi}
                max: {cpu: "1"}
            """)
        var result = try await server.kubectl("create", "-f", limits)
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl("create", "-f", try server.write("first.yaml", pod("first")))
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl(
            "get", "pod", "first", "-o",
            "jsonpath={.spec.containers[0].resources.requests.cpu} {.spec.containers[0].resources.limits.memory} {.status.qosClass}")
        #expect(result.output == "100m 64Mi Burstable", "\(result.output)")
        result = try await server.kubectl(
            "create", "-f", try server.write("big.yaml", pod("big", resources: "    resources:\n      limits: {cpu: \"2\"}\n")))
        #expect(
            result.status != 0
                && result.output.contains(#"Error from server (Forbidden): error when creating "#)
                && result.output.contains(#"pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2"#), "\(result.output)")

        let quota = try server.write(
            "quota.yaml", "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: pods-quota}\nspec:\n  hard: {pods: \"1\"}\n")
        result = try await server.kubectl("create", "-f", quota)
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl("create", "-f", try server.write("second.yaml", pod("second")))
        #expect(
            result.status != 0
                && result.output.contains(
                    #"pods "second" is forbidden: exceeded quota: pods-quota, requested: pods=1, used: pods=1, limited: pods=1"#),
            "\(result.output)")
        result = try await server.kubectl("get", "resourcequota", "pods-quota", "-o", "jsonpath={.status.hard.pods} {.status.used.pods}")
        #expect(result.output == "1 1", "\(result.output)")

        // A pod that ended frees its share.
        result = try await server.kubectl(
            "patch", "pod", "first", "--subresource=status", "--type=merge", "-p", #"{"status":{"phase":"Succeeded"}}"#)
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl("get", "resourcequota", "pods-quota", "-o", "jsonpath={.status.used.pods}")
        #expect(result.output == "0", "\(result.output)")
        result = try await server.kubectl("create", "-f", try server.write("second.yaml", pod("second")))
        #expect(result.status == 0, "\(result.output)")

        result = try await server.kubectl("get", "limitranges,resourcequotas")
        #expect(result.status == 0 && result.output.contains("limitrange/bounds") && result.output.contains("pods: 1/1"), "\(result.output)")
        result = try await server.kubectl("describe", "namespace", "default")
        let rows = result.output.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(result.status == 0 && rows.contains(["Name:", "pods-quota"]) && rows.contains(["pods", "1", "1"]), "\(result.output)")
        #expect(rows.contains(["Container", "cpu", "-", "1", "100m", "200m", "-"]), "\(result.output)")
    }
}
