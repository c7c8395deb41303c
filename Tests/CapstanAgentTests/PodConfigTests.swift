import CRIAPI
import CapstanCore
import Foundation
import OrderedCollections
import Testing

@testable import CapstanAgent

/// The pure parts of turning a pod into runtime calls and back into a status.
struct PodConfigTests {
    func pod(_ spec: JSONObject, labels: [String: String] = ["app": "web"]) -> Pod {
        var pod = Pod(json: [
            "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "web-1", "namespace": "shop", "uid": "u-1"], "spec": .object(spec),
        ])
        pod.metadata.labels = labels
        return pod
    }

    @Test func environmentFollowsKubernetesOrderAndExpansion() throws {
        let container = Container(json: [
            "name": "app", "image": "x",
            "envFrom": [["configMapRef": ["name": "base"], "prefix": "BASE_"]],
            "env": [
                ["name": "HOST", "value": "db"],
                ["name": "URL", "value": "postgres://$(HOST):5432/$(MISSING)/$$(HOST)"],
                ["name": "NODE", "valueFrom": ["fieldRef": ["fieldPath": "spec.nodeName"]]],
                ["name": "APP", "valueFrom": ["fieldRef": ["fieldPath": "metadata.labels['app']"]]],
                ["name": "IP", "valueFrom": ["fieldRef": ["fieldPath": "status.podIP"]]],
                ["name": "MEM", "valueFrom": ["resourceFieldRef": ["resource": "limits.memory", "divisor": "1Mi"]]],
                ["name": "TOKEN", "valueFrom": ["secretKeyRef": ["name": "creds", "key": "token"]]],
                ["name": "OPTIONAL", "valueFrom": ["configMapKeyRef": ["name": "absent", "key": "k", "optional": true]]],
            ],
            "resources": ["limits": ["memory": "64Mi"]],
        ])
        var spec: JSONObject = ["nodeName": "n1", "containers": [.object(container.json)]]
        spec["nodeName"] = "n1"
        let references = PodReferences(configMaps: ["base": ["LEVEL": Array("info".utf8)]], secrets: ["creds": ["token": Array("s3cret".utf8)]])
        let environment = try EnvironmentResolver(pod: pod(spec), references: references, podIP: "10.88.0.9", hostIP: "192.0.2.1").environment(
            for: container)
        let values = Dictionary(uniqueKeysWithValues: environment.map { ($0.name, $0.value) })
        #expect(environment.map(\.name) == ["BASE_LEVEL", "HOST", "URL", "NODE", "APP", "IP", "MEM", "TOKEN"])
        #expect(values["URL"] == "postgres://db:5432/$(MISSING)/$(HOST)")
        #expect(values["NODE"] == "n1")
        #expect(values["APP"] == "web")
        #expect(values["IP"] == "10.88.0.9")
        #expect(values["MEM"] == "64")
        #expect(values["TOKEN"] == "s3cret")
    }

    @Test func theAPIServerVariablesComeFirstAndThePodsOwnWin() throws {
        let container = Container(json: [
            "name": "app", "image": "x",
            "env": [
                ["name": "URL", "value": "https://$(KUBERNETES_SERVICE_HOST):$(KUBERNETES_SERVICE_PORT)"],
                ["name": "KUBERNETES_SERVICE_PORT", "value": "1"],
            ],
        ])
        let server = APIServerAddress(host: "192.0.2.2", port: 6443)
        let environment = try EnvironmentResolver(
            pod: pod(["containers": [.object(container.json)]]), references: PodReferences(), podIP: "10.88.0.9", hostIP: "192.0.2.1",
            serviceVariables: server.environment
        )
        .environment(for: container)
        #expect(
            environment.map(\.name) == [
                "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "KUBERNETES_SERVICE_PORT_HTTPS", "KUBERNETES_PORT", "KUBERNETES_PORT_6443_TCP",
                "KUBERNETES_PORT_6443_TCP_PROTO", "KUBERNETES_PORT_6443_TCP_PORT", "KUBERNETES_PORT_6443_TCP_ADDR", "URL",
            ])
        let values = Dictionary(uniqueKeysWithValues: environment.map { ($0.name, $0.value) })
        #expect(values["URL"] == "https://192.0.2.2:6443")
        #expect(values["KUBERNETES_SERVICE_PORT"] == "1")
        #expect(values["KUBERNETES_PORT_6443_TCP"] == "tcp://192.0.2.2:6443")
        #expect(APIServerAddress(host: "fd00::1", port: 443).environment.first { $0.name == "KUBERNETES_PORT" }?.value == "tcp://[fd00::1]:443")
    }

    @Test func missingReferencesSayWhatIsMissing() {
        let resolver = EnvironmentResolver(pod: pod([:]), references: PodReferences(configMaps: ["present": [:]]), podIP: "", hostIP: "")
        func message(_ env: JSONValue) -> String? {
            do {
                _ = try resolver.environment(for: Container(json: ["name": "c", "env": [env]]))
                return nil
            } catch {
                return error.description
            }
        }
        #expect(message(["name": "A", "valueFrom": ["configMapKeyRef": ["name": "gone", "key": "k"]]]) == "configmap \"gone\" not found")
        #expect(
            message(["name": "A", "valueFrom": ["configMapKeyRef": ["name": "present", "key": "k"]]])
                == "couldn't find key k in ConfigMap shop/present")
        #expect(message(["name": "A", "valueFrom": ["secretKeyRef": ["name": "gone", "key": "k"]]]) == "secret \"gone\" not found")
        #expect(message(["name": "A", "valueFrom": ["fieldRef": ["fieldPath": "spec.nope"]]]) == "unsupported fieldPath: spec.nope")
    }

    @Test func resourcesBecomeCgroupValues() {
        let limited = RuntimeConfigBuilder.resources(
            ResourceRequirements(json: ["requests": ["cpu": "250m", "memory": "16Mi"], "limits": ["cpu": "500m", "memory": "32Mi"]]))
        #expect(limited.cpuShares == 256)
        #expect(limited.cpuPeriod == 100_000 && limited.cpuQuota == 50_000)
        #expect(limited.memoryLimitInBytes == 32 * 1024 * 1024)
        // Absurd quantities (a pod bound by hand skips the scheduler) must not overflow.
        let huge = RuntimeConfigBuilder.resources(
            ResourceRequirements(json: ["requests": ["cpu": "10T"], "limits": ["cpu": "100G", "memory": "8Ei"]]))
        #expect(huge.cpuShares == 262_144 && huge.cpuQuota > 0 && huge.memoryLimitInBytes > 0)
        let bestEffort = RuntimeConfigBuilder.resources(ResourceRequirements(json: [:]))
        #expect(bestEffort.cpuShares == 2 && bestEffort.cpuQuota == 0 && bestEffort.memoryLimitInBytes == 0)
    }

    @Test func containerConfigCarriesIdentityLogPathAndSecurity() {
        let spec: JSONObject = [
            "containers": [
                [
                    "name": "app", "image": "busybox:1.35", "command": ["sh", "-c", "echo $(GREETING)"],
                    "ports": [["containerPort": 80, "hostPort": 8080]],
                    "securityContext": [
                        "readOnlyRootFilesystem": true, "runAsUser": 1000, "capabilities": ["drop": ["ALL"]], "allowPrivilegeEscalation": false,
                    ],
                ]
            ],
            "hostNetwork": false, "terminationGracePeriodSeconds": 7,
        ]
        let builder = RuntimeConfigBuilder(pod: pod(spec), nodeName: "n1", logRoot: "/var/log/pods")
        let sandbox = builder.sandboxConfig(attempt: 1)
        #expect(sandbox.metadata.uid == "u-1" && sandbox.metadata.attempt == 1)
        #expect(sandbox.logDirectory == "/var/log/pods/shop_web-1_u-1")
        #expect(sandbox.labels["io.kubernetes.pod.uid"] == "u-1" && sandbox.labels["app"] == "web")
        #expect(sandbox.portMappings.first?.hostPort == 8080)
        #expect(sandbox.linux.securityContext.namespaceOptions.pid == .container)
        let container = builder.containerConfig(pod(spec).spec.containers[0], restartCount: 2, environment: [("GREETING", "hi")], mounts: [])
        #expect(container.command == ["sh", "-c", "echo hi"])
        #expect(container.logPath == "app/2.log")
        #expect(container.annotations["io.kubernetes.container.restartCount"] == "2")
        #expect(container.annotations["io.kubernetes.pod.terminationGracePeriod"] == "7")
        #expect(container.linux.securityContext.readonlyRootfs)
        #expect(container.linux.securityContext.runAsUser.value == 1000)
        #expect(container.linux.securityContext.capabilities.dropCapabilities == ["ALL"])
        #expect(container.linux.securityContext.noNewPrivs)
        #expect(String(decoding: container.envs[0].value, as: UTF8.self) == "hi")
    }

    @Test func pullPolicyDefaultsFollowTheTag() {
        #expect(ImagePuller.pullPolicy(Container(json: ["image": "busybox"])) == "Always")
        #expect(ImagePuller.pullPolicy(Container(json: ["image": "busybox:latest"])) == "Always")
        #expect(ImagePuller.pullPolicy(Container(json: ["image": "registry:5000/busybox:1.35"])) == "IfNotPresent")
        #expect(ImagePuller.pullPolicy(Container(json: ["image": "registry:5000/busybox"])) == "Always")
        #expect(ImagePuller.pullPolicy(Container(json: ["image": "busybox@sha256:abc"])) == "IfNotPresent")
        #expect(ImagePuller.pullPolicy(Container(json: ["image": "busybox", "imagePullPolicy": "Never"])) == "Never")
    }

    @Test func restartPolicyAndBackoff() {
        #expect(PodActions.shouldRestart(policy: "Always", exitCode: 0))
        #expect(PodActions.shouldRestart(policy: "OnFailure", exitCode: 1))
        #expect(!PodActions.shouldRestart(policy: "OnFailure", exitCode: 0))
        #expect(!PodActions.shouldRestart(policy: "Never", exitCode: 1))

        var backoff = RestartBackoff(initial: .seconds(10), maximum: .seconds(40))
        let start = Date(timeIntervalSince1970: 1000)
        #expect(backoff.remaining("p/c", finishedAt: start, now: start) == nil)  // first restart: at once
        backoff.started("p/c", now: start)
        #expect(backoff.remaining("p/c", finishedAt: start, now: start.addingTimeInterval(4)) == .seconds(6))
        #expect(backoff.remaining("p/c", finishedAt: start, now: start.addingTimeInterval(11)) == nil)
        backoff.started("p/c", now: start.addingTimeInterval(11))
        #expect(backoff.delay("p/c") == .seconds(20))
        backoff.started("p/c", now: start.addingTimeInterval(40))
        backoff.started("p/c", now: start.addingTimeInterval(90))
        #expect(backoff.delay("p/c") == .seconds(40))  // capped
        // Ran for twice the maximum since its last start: the next crash restarts at once.
        #expect(backoff.remaining("p/c", finishedAt: start.addingTimeInterval(999), now: start.addingTimeInterval(1000)) == nil)
        backoff.started("p/c", now: start.addingTimeInterval(1000))  // and the back-off starts over
        #expect(backoff.delay("p/c") == .seconds(10))
    }

    @Test func probePortsResolveByNumberOrName() {
        let container = Container(json: ["name": "c", "ports": [["name": "http", "containerPort": 8080]]])
        #expect(ProbeManager.resolvePort(.string("http"), in: container) == 8080)
        #expect(ProbeManager.resolvePort(.int(9000), in: container) == 9000)
        #expect(ProbeManager.resolvePort(.string("81"), in: container) == 81)
        #expect(ProbeManager.resolvePort(.string("nope"), in: container) == nil)
        #expect(ProbeManager.resolvePort(.int(70_000), in: container) == nil)
    }

    /// The seccomp profile the agent asks for, given the pod's and the container's `seccompProfile`.
    struct SeccompCase: Sendable, CustomTestStringConvertible {
        var name: String
        var pod: JSONValue?
        var container: JSONObject?
        var seccompDefault = true
        var expected: Runtime_V1_SecurityProfile.ProfileType
        var localhostRef = ""
        var testDescription: String { name }
    }

    static let seccompCases: [SeccompCase] = [
        SeccompCase(name: "nothing named: RuntimeDefault", pod: nil, container: nil, expected: .runtimeDefault),
        SeccompCase(name: "--seccomp-default=false: Unconfined", pod: nil, container: nil, seccompDefault: false, expected: .unconfined),
        SeccompCase(name: "Unconfined asked for by the pod", pod: ["type": "Unconfined"], container: nil, expected: .unconfined),
        SeccompCase(
            name: "Unconfined asked for by the container", pod: nil, container: ["seccompProfile": ["type": "Unconfined"]], expected: .unconfined),
        SeccompCase(
            name: "the container's profile wins over the pod's", pod: ["type": "Unconfined"],
            container: ["seccompProfile": ["type": "RuntimeDefault"]], expected: .runtimeDefault),
        SeccompCase(
            name: "the pod's profile for a container naming none", pod: ["type": "Localhost", "localhostProfile": "/etc/capstan/seccomp/web.json"],
            container: ["runAsUser": 1000], expected: .localhost, localhostRef: "/etc/capstan/seccomp/web.json"),
        SeccompCase(name: "privileged without a profile: none", pod: nil, container: ["privileged": true], expected: .unconfined),
        SeccompCase(
            name: "privileged with a profile keeps it", pod: nil, container: ["privileged": true, "seccompProfile": ["type": "RuntimeDefault"]],
            expected: .runtimeDefault),
    ]

    @Test(arguments: seccompCases)
    func seccompDefaultsToRuntimeDefault(_ example: SeccompCase) {
        var container: JSONObject = ["name": "app", "image": "busybox:1.35"]
        if let context = example.container { container["securityContext"] = .object(context) }
        var spec: JSONObject = ["containers": [.object(container)]]
        if let profile = example.pod { spec["securityContext"] = ["seccompProfile": profile] }
        let built = pod(spec)
        let builder = RuntimeConfigBuilder(pod: built, nodeName: "n1", logRoot: "/var/log/pods", seccompDefault: example.seccompDefault)
        let config = builder.containerConfig(built.spec.containers[0], restartCount: 0, environment: [], mounts: [])
        #expect(config.linux.securityContext.hasSeccomp)
        #expect(config.linux.securityContext.seccomp.profileType == example.expected)
        #expect(config.linux.securityContext.seccomp.localhostRef == example.localhostRef)
    }
}
