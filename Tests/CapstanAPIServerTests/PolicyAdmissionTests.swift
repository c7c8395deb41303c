import CapstanAPI
import CapstanCore
import CapstanPolicy
import Foundation
import Testing

@testable import CapstanAPIServer

/// Capstan's policies as validating admission on API writes: Enforce refuses
/// with 403 and the words the GitOps gate uses, Audit passes with a `Warning`,
/// and Capstan's own components' writes are not checked again.
@Suite struct PolicyAdmissionTests {
    private static let pods = "/api/v1/namespaces/default/pods"

    /// The project's `policies/`: Capstan's defaults, as `capstan server` loads them.
    private static func projectPolicies(only names: Set<String>? = nil) throws -> [Policy] {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appending(path: "policies")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().filter {
            PolicyLoader.isPolicyFile($0) && (names?.contains($0) ?? true)
        }
        let files = try names.map { (path: "policies/" + $0, contents: [UInt8](try Data(contentsOf: folder.appending(path: $0)))) }
        let set = PolicyLoader().load(files: files)
        #expect(set.errors.isEmpty, "\(set.errors)")
        return set.policies
    }

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

    /// A pod that breaks only the latest-tag rule (Audit) of `disallow-latest-tag`.
    private static let latestPod = """
        apiVersion: v1
        kind: Pod
        metadata: {name: latest, namespace: default}
        spec:
          containers: [{name: c, image: "busybox:latest"}]
        """

    /// What the GitOps gate (and `capstan validate`) prints for `manifest` after its
    /// `file:line:column: `, one line per violation of `action`.
    private static func gateWords(_ manifest: String, _ policies: [Policy], _ action: FailureAction) throws -> [String] {
        let set = ManifestLoader().load(files: [(path: "pod.yaml", contents: Array(manifest.utf8))])
        #expect(set.errors.isEmpty, "\(set.errors)")
        let check = PolicyEngine(policies: policies).check(set.manifests)
        return (action == .enforce ? check.errors : check.warnings).map {
            let located = $0.description.replacingOccurrences(of: "\($0.file):\($0.position): ", with: "")
            return action == .audit ? String(located.dropFirst("warning: ".count)) : located
        }
    }

    private static func json(_ manifest: String) throws -> JSONValue {
        try #require(ManifestLoader().load(files: [(path: "pod.yaml", contents: Array(manifest.utf8))]).manifests.first).object.jsonValue
    }

    @Test func privilegedPodIsForbiddenWithThePolicyMessageUnderTheDefaultPolicies() async throws {
        let policies = try Self.projectPolicies()
        let expected = try Self.gateWords(Self.privilegedPod, policies, .enforce)
        #expect(expected.count == 1 && expected[0].hasPrefix("Pod default/root: policy pod-security-baseline: validation error: Privileged mode"))
        try await InProcessServer.with(configure: { $0.admissionPolicies = policies }) { server in
            for path in [Self.pods + "?dryRun=All", Self.pods] {
                let response = try await server.request("POST", path, json: try Self.json(Self.privilegedPod))
                #expect(response.status == 403, "\(path): \(response.text)")
                #expect(response.json?["kind"] == "Status")
                #expect(response.json?["reason"] == "Forbidden")
                #expect(response.json?["code"] == 403)
                #expect(response.json?["message"] == .string("admission policy denied the request: " + expected[0]))
            }
            let stored = try await server.request("GET", Self.pods + "/root")
            #expect(stored.status == 404, "a refused write stores nothing")
        }
    }

    @Test func updateThatMakesAPodPrivilegedIsForbidden() async throws {
        let policies = try Self.projectPolicies(only: ["pod-security-baseline.yaml"])
        try await InProcessServer.with(configure: { $0.admissionPolicies = policies }) { server in
            var pod = try Self.json(Self.privilegedPod)
            pod[path: ["spec", "containers"]] = [["name": "c", "image": "localhost/capstan/busybox:1.36"]]
            let created = try await server.request("POST", Self.pods, json: pod)
            #expect(created.status == 201, "\(created.text)")
            var privileged = try #require(created.json)
            privileged[path: ["spec", "containers"]] = [
                ["name": "c", "image": "localhost/capstan/busybox:1.36", "securityContext": ["privileged": true]]
            ]
            let updated = try await server.request("PUT", Self.pods + "/root", json: privileged)
            #expect(updated.status == 403, "\(updated.text)")
            #expect(updated.json?["reason"] == "Forbidden")
        }
    }

    @Test func auditViolationPassesWithAWarningInTheGateWords() async throws {
        let policies = try Self.projectPolicies(only: ["disallow-latest-tag.yaml"])
        let expected = try Self.gateWords(Self.latestPod, policies, .audit)
        #expect(expected.count == 1, "\(expected)")
        try await InProcessServer.with(configure: { $0.admissionPolicies = policies }) { server in
            let response = try await server.request("POST", Self.pods, json: try Self.json(Self.latestPod))
            #expect(response.status == 201, "\(response.text)")
            #expect(response.headers["warning"] == RequestWarnings.headerValue(expected[0]))
        }
    }

    @Test func admissionPoliciesNoneLetsAPrivilegedPodThrough() async throws {
        // `--admission-policies none` is an empty list in the server's configuration.
        try await InProcessServer.with(configure: { $0.admissionPolicies = [] }) { server in
            let response = try await server.request("POST", Self.pods, json: try Self.json(Self.privilegedPod))
            #expect(response.status == 201, "\(response.text)")
        }
    }

    @Test func componentsWritingInProcessAreNotCheckedAgain() async throws {
        let policies = try Self.projectPolicies()
        try await InProcessServer.with(configure: { $0.admissionPolicies = policies }) { server in
            let client = InProcessClient(registry: server.registry)
            let created = try await client.create(
                BuiltinKinds.pod, namespace: "default", object: try Self.json(Self.privilegedPod),
                options: WriteOptions(fieldManager: "replicaset-controller"))
            #expect(created[path: ["metadata", "name"]] == "root")
            // The same write through the registry as a request makes it is refused.
            var other = try Self.json(Self.privilegedPod)
            other[path: ["metadata", "name"]] = "root-2"
            await #expect(throws: APIError.self) {
                try await server.registry.create(
                    BuiltinKinds.pod, namespace: "default", object: other, options: WriteOptions(fieldManager: "kubectl"))
            }
        }
    }

    @Test func anUpdateKeepsViolationsTheStoredObjectAlreadyHad() async throws {
        let policies = try Self.projectPolicies(only: ["pod-security-baseline.yaml"])
        try await InProcessServer.with(configure: { $0.admissionPolicies = policies }) { server in
            // Written before the policy mattered (by a component), then labelled by a user.
            let client = InProcessClient(registry: server.registry)
            _ = try await client.create(
                BuiltinKinds.pod, namespace: "default", object: try Self.json(Self.privilegedPod), options: WriteOptions(fieldManager: "old"))
            var labelled = try await server.registry.get(BuiltinKinds.pod, namespace: "default", name: "root")
            labelled[path: ["metadata", "labels"]] = ["team": "a"]
            let response = try await server.request("PUT", Self.pods + "/root", json: labelled)
            #expect(response.status == 200, "\(response.text)")
            #expect(response.headers["warning"]?.contains("policy pod-security-baseline: validation error: Privileged mode") == true)
        }
    }
}
