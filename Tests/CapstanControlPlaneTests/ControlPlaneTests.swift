import CapstanAPI
import CapstanAPIServer
import CapstanAgent
import CapstanControlPlane
import CapstanCore
import CapstanGitOps
import CapstanTestSupport
import CapstanTesting
import Foundation
import Logging
import Synchronization
import Testing

/// The whole control plane assembled in process — store, API server, GitOps,
/// scheduler, controllers and a node agent — on a fake container runtime:
/// what `capstan up` runs, without runc.
@Suite struct ControlPlaneTests {
    /// A commit to a real git repository becomes a Deployment, its pods are
    /// scheduled onto the embedded node and run there, and the API listens.
    @Test func aCommittedDeploymentRunsOnTheEmbeddedNode() async throws {
        let git = try GitFixture()
        try git.commit(["app.yaml": Self.deployment(replicas: 2)], message: "web, two replicas")
        try await TemporaryDirectory.with(prefix: "control-plane") { directory in
            let runtime = FakeRuntime()
            var configuration = ControlPlaneConfiguration(dataDirectory: directory.path, port: 0, capstanVersion: "test")
            configuration.node = EmbeddedNodeConfiguration(
                agent: NodeAgent.Configuration(nodeName: "node-a", runtimeSocket: "", rootDirectory: directory.appending("agent")),
                runtime: .provided(runtime))
            configuration.gitOps = GitOpsServerConfiguration(
                source: GitOpsConfiguration(remote: git.remote.path, directory: directory.appending("git"), pollInterval: 1),
                webhookSecret: WebhookSecretFile(path: directory.appending("webhook-secret"), createIfMissing: true))
            let events = Mutex<[ControlPlane.Event]>([])
            let controlPlane = try ControlPlane(configuration: configuration, logger: Logger(label: "test")) { event in
                events.withLock { $0.append(event) }
            }
            let client = controlPlane.client
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await controlPlane.run(gracefulShutdownSignals: []) }
                defer { group.cancelAll() }

                try await eventually("the API server listens and the GitOps engine follows the repository", timeout: .seconds(300)) {
                    let seen = events.withLock { $0 }
                    return seen.contains { if case .listening = $0 { true } else { false } }
                        && seen.contains { if case .following(_, "main", _) = $0 { true } else { false } }
                }
                try await eventually("two pods of the committed Deployment run on node-a") {
                    let pods = try await client.list(BuiltinKinds.pod, namespace: "default", options: ListOptions()).items
                    let running = pods.filter {
                        $0[path: ["spec", "nodeName"]]?.stringValue == "node-a" && $0[path: ["status", "phase"]]?.stringValue == "Running"
                    }
                    return pods.count == 2 && running.count == 2
                }
                #expect(runtime.running("web") != nil)
                let kubeconfig = try String(contentsOfFile: configuration.adminKubeconfigPath, encoding: .utf8)
                #expect(kubeconfig.contains("server: https://127.0.0.1:"))
            }
        }
    }

    /// The store is closed when the control plane stops, so a second one on the
    /// same data directory opens it and finds what the first wrote.
    @Test func aSecondControlPlaneOnTheSameDataDirectoryFindsTheFirstOnesObjects() async throws {
        try await TemporaryDirectory.with(prefix: "control-plane") { directory in
            let configuration = ControlPlaneConfiguration(dataDirectory: directory.path, port: 0, capstanVersion: "test")
            for round in 0..<2 {
                let controlPlane = try ControlPlane(configuration: configuration, logger: Logger(label: "test"))
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await controlPlane.run(gracefulShutdownSignals: []) }
                    defer { group.cancelAll() }
                    if round == 0 {
                        try await eventually("the built-in namespaces exist") {
                            (try? await controlPlane.client.get(BuiltinKinds.namespace, namespace: nil, name: "default")) != nil
                        }
                        _ = try await controlPlane.client.create(
                            BuiltinKinds.configMap, namespace: "default",
                            object: ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "kept"], "data": ["a": "1"]],
                            options: WriteOptions(fieldManager: "test"))
                    } else {
                        let kept = try await controlPlane.client.get(BuiltinKinds.configMap, namespace: "default", name: "kept")
                        #expect(kept[path: ["data", "a"]]?.stringValue == "1")
                    }
                }
            }
        }
    }

    static func deployment(replicas: Int) -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          namespace: default
        spec:
          replicas: \(replicas)
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              securityContext:
                runAsNonRoot: true
                runAsUser: 65534
                seccompProfile: {type: RuntimeDefault}
              containers:
              - name: web
                image: localhost/web:1
                securityContext:
                  allowPrivilegeEscalation: false
                  capabilities: {drop: [ALL]}
        """
    }
}

/// Where pods are told the API server is (`KUBERNETES_SERVICE_HOST`).
@Suite struct PodFacingAddressTests {
    private func address(host: String, advertise: String? = nil) -> String? {
        var configuration = ControlPlaneConfiguration(dataDirectory: "/unused", host: host, capstanVersion: "test")
        configuration.advertiseAddress = advertise
        return configuration.podFacingAddress(machineAddresses: ["192.0.2.2", "10.88.0.1"])
    }

    @Test func theAdvertiseAddressThenTheListenAddressThenTheMachinesFirst() {
        #expect(address(host: "0.0.0.0", advertise: "192.0.2.9") == "192.0.2.9")
        #expect(address(host: "192.0.2.3") == "192.0.2.3")
        #expect(address(host: "0.0.0.0") == "192.0.2.2")
        #expect(address(host: "::") == "192.0.2.2")
        // Loopback is the pod itself: no address at all.
        for loopback in ["127.0.0.1", "127.0.0.2", "::1", "localhost"] { #expect(address(host: loopback) == nil, "\(loopback)") }
    }
}
