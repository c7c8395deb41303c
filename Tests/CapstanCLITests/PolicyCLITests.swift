import Foundation
import Testing

/// `capstan validate --policies`, run as users run it.
@Suite struct PolicyCLITests {
    static let app = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          namespace: shop
        spec:
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              containers:
                - name: web
                  image: nginx:latest
                  resources:
                    requests: {cpu: 100m, memory: 64Mi}
                    limits: {memory: 128Mi}
                  securityContext:
                    privileged: true
        """

    @Test func theStarterRepositoryPassesTheDefaultPoliciesWithoutWarnings() throws {
        let result = try CapstanProcess.run(["validate", "--policies", "policies", "repo-template"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines == ["valid: 4 objects in 2 files"], "\(lines)")
    }

    @Test func enforcedViolationsFailWithFileLineAndColumn() throws {
        let tree = try CapstanProcess.makeTree(["deploy/app.yaml": Self.app])
        defer { try? FileManager.default.removeItem(at: tree) }
        let result = try CapstanProcess.run(["validate", "--policies", "policies", tree.appending(path: "deploy").path])
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let file = tree.appending(path: "deploy/app.yaml").path
        // A security default refuses the commit…
        #expect(
            lines.contains {
                $0.hasPrefix("\(file):20:13: Deployment shop/web: policy pod-security-baseline: validation error: Privileged mode is disallowed.")
                    && $0.hasSuffix("rule privileged-containers failed at path /spec/template/spec/containers/0/securityContext/privileged/")
            }, "\(lines)")
        // …best-practice defaults warn.
        #expect(
            lines.contains(
                "\(file):15:11: warning: Deployment shop/web: policy disallow-latest-tag: validation error: Using a mutable image tag such as 'latest' is not allowed. rule validate-image-tag failed at path /spec/template/spec/containers/0/image/"
            ), "\(lines)")
        #expect(lines.contains { $0.hasPrefix("\(file):14:11: warning: Deployment shop/web: policy require-probes: ") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("\(file):19:11: warning: Deployment shop/web: policy pod-security-restricted: ") }, "\(lines)")
        #expect(lines.last == "invalid: 1 error in 1 file, 6 warnings")
    }

    @Test func brokenPoliciesAreErrorsAtTheirPosition() throws {
        let tree = try CapstanProcess.makeTree([
            "deploy/app.yaml": Self.app,
            "policies/broken.yaml": """
            apiVersion: kyverno.io/v1
            kind: ClusterPolicy
            metadata: {name: broken}
            spec:
              rules:
                - name: r
                  match: {any: [{resources: {kinds: [Pod]}}]}
                  mutate: {patchStrategicMerge: {}}
            """,
            "policies/tests/broken/pass.yaml": "not: [a policy\n",
        ])
        defer { try? FileManager.default.removeItem(at: tree) }
        let result = try CapstanProcess.run([
            "validate", "--policies", tree.appending(path: "policies").path, tree.appending(path: "deploy").path,
        ])
        #expect(result.status == 1)
        #expect(
            result.stdout.contains("\(tree.path)/policies/broken.yaml:8:7: ClusterPolicy broken: spec.rules[0].mutate: not supported: mutate rules"),
            "\(result.stdout)")
        // Example manifests under tests/ are not read as policies.
        #expect(!result.stdout.contains("pass.yaml"))
    }

    @Test func missingPolicyFoldersAreUsageErrors() throws {
        let result = try CapstanProcess.run(["validate", "--policies", "/nonexistent/policies", "repo-template"])
        #expect(result.status != 0 && result.status != 1)
        #expect(result.stderr.contains("/nonexistent/policies: no such file or directory"))
    }
}
