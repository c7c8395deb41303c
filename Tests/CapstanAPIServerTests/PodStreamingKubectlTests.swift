import CapstanAPI
import CapstanCore
import CapstanTestSupport
import CapstanTesting
import Foundation
import Testing

@testable import CapstanAPIServer

/// The real kubectl (`logs`, `logs -f`, `exec`) over HTTPS with tokens against
/// the API server running in this process, with a fake node agent behind
/// ``PodStreaming``: the whole wire path — discovery, TLS, RBAC, chunked logs,
/// the WebSocket upgrade and the v5 channel protocol — is the real one.
@Suite(.serialized) struct PodStreamingKubectlTests {
    static let kubectlPath = "/usr/bin/kubectl"

    struct Cluster {
        let server: InProcessServer
        let directory: TemporaryDirectory
        let adminConfig: String
        let viewerConfig: String

        /// Runs kubectl; stdout and stderr apart.
        func kubectl(_ arguments: [String], config: String? = nil, input: String? = nil) async throws -> (
            status: Int32, stdout: String, stderr: String
        ) {
            let errorPath = directory.appending("stderr-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(atPath: errorPath) }
            var environment = ProcessInfo.processInfo.environment
            environment["HOME"] = directory.path
            environment["KUBECONFIG"] = config ?? adminConfig
            let result = try await runCommand(
                "/bin/sh",
                ["-c", "exec \"$0\" \"$@\" 2>\"$KUBECTL_STDERR\"", PodStreamingKubectlTests.kubectlPath]
                    + ["--cache-dir", directory.appending("kube-cache")] + arguments,
                input: input, environment: environment.merging(["KUBECTL_STDERR": errorPath]) { _, new in new }, timeout: .seconds(60))
            let stderr = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
            return (result.status, result.output, stderr)
        }
    }

    static let fake = FakePodStreaming(
        lines: ["app": ["one", "two", "three", "four"], "a": ["from a"], "b": ["from b"]], previousLines: ["app": ["before the crash"]],
        waiting: ["slow": "ContainerCreating"], followLines: ["five", "six"])

    private func withCluster(_ body: (Cluster) async throws -> Void) async throws {
        try await InProcessServer.with(tls: true, podStreaming: Self.fake) { server in
            let directory = try TemporaryDirectory(prefix: "capstan-kubectl-streaming")
            defer { directory.remove() }
            let url = "https://127.0.0.1:\(server.port)"
            let ca = server.security.pki?.caCertificatePEM
            try server.security.writeAdminKubeconfig(serverURL: url)
            let viewerToken = try server.security.tokens.mint(for: User(name: "viewer", role: .viewer))
            let viewerConfig = directory.appending("viewer.kubeconfig")
            try Kubeconfig(server: url, certificateAuthorityPEM: ca, token: viewerToken, userName: "viewer").yaml
                .write(toFile: viewerConfig, atomically: true, encoding: .utf8)
            let options = WriteOptions(fieldManager: "test")
            for pod in [
                StreamingPods.pod("web"), StreamingPods.pod("multi", containers: ["a", "b"]), StreamingPods.pod("starting", containers: ["slow"]),
            ] {
                _ = try await server.registry.create(BuiltinKinds.pod, namespace: "default", object: pod, options: options)
            }
            try await body(
                Cluster(
                    server: server, directory: directory,
                    adminConfig: ServerSecurity.adminKubeconfigPath(dataDirectory: server.security.dataDirectory), viewerConfig: viewerConfig))
        }
    }

    @Test func kubectlLogs() async throws {
        try await withCluster { cluster in
            let all = try await cluster.kubectl(["logs", "web"])
            #expect(all.status == 0, "\(all.stderr)")
            #expect(all.stdout == "one\ntwo\nthree\nfour\n")
            let tail = try await cluster.kubectl(["logs", "web", "--tail=2"])
            #expect(tail.stdout == "three\nfour\n")
            let previous = try await cluster.kubectl(["logs", "web", "--previous"])
            #expect(previous.stdout == "before the crash\n")
            let follow = try await cluster.kubectl(["logs", "-f", "web"])
            #expect(follow.status == 0, "\(follow.stderr)")
            #expect(follow.stdout == "one\ntwo\nthree\nfour\nfive\nsix\n")
            let stamped = try await cluster.kubectl(["logs", "web", "--timestamps", "--limit-bytes=40", "--since=1h"])
            #expect(stamped.stdout == FakePodStreaming.timestamp(0) + " one\n" + FakePodStreaming.timestamp(1).prefix(5), "\(stamped.stderr)")
            let sinceTime = try await cluster.kubectl(["logs", "web", "--since-time=2026-01-02T03:04:05Z"])
            #expect(sinceTime.status == 0, "\(sinceTime.stderr)")
            let named = try await cluster.kubectl(["logs", "multi", "-c", "b"])
            #expect(named.stdout == "from b\n")
            let waiting = try await cluster.kubectl(["logs", "starting"])
            #expect(waiting.status == 1)
            #expect(
                waiting.stderr.contains(
                    #"Error from server (BadRequest): container "slow" in pod "starting" is waiting to start: ContainerCreating"#),
                "\(waiting.stderr)")
            let viewer = try await cluster.kubectl(["logs", "web", "--tail=1"], config: cluster.viewerConfig)
            #expect(viewer.status == 0 && viewer.stdout == "four\n", "\(viewer.stderr)")
        }
        #expect(Self.fake.logCalls.contains { $0.tailLines == 2 && $0.container == "app" })
        #expect(Self.fake.logCalls.contains { $0.follow })
        #expect(Self.fake.logCalls.contains { $0.sinceSeconds == 3600 && $0.limitBytes == 40 && $0.timestamps })
        #expect(Self.fake.logCalls.contains { $0.sinceTime == Date(timeIntervalSince1970: 1_767_323_045) })
    }

    @Test func kubectlExec() async throws {
        try await withCluster { cluster in
            let echo = try await cluster.kubectl(["exec", "web", "--", "echo", "hello", "a b"])
            #expect(echo.status == 0, "\(echo.stderr)")
            #expect(echo.stdout == "hello a b\n")
            // Arguments reach the node byte for byte, whatever URL encoding they need.
            let odd = try await cluster.kubectl(["exec", "web", "--", "echo", "a&b=c", "%20", "+", "ü", "x;y", "--flag"])
            #expect(odd.stdout == "a&b=c %20 + ü x;y --flag\n", "\(odd.stderr)")
            let warn = try await cluster.kubectl(["exec", "web", "--", "warn", "careful"])
            #expect(warn.status == 0 && warn.stdout.isEmpty && warn.stderr == "careful\n")
            let failing = try await cluster.kubectl(["exec", "web", "--", "exit", "3"])
            #expect(failing.status == 3)
            #expect(failing.stdout == "out\n")
            #expect(failing.stderr.hasPrefix("err\n"))
            #expect(failing.stderr.contains("command terminated with exit code 3"))
            let big = try await cluster.kubectl(["exec", "web", "--", "bytes", "100000"])
            #expect(big.status == 0 && big.stdout.utf8.count == 100_000)
            let named = try await cluster.kubectl(["exec", "multi", "-c", "b", "--", "echo", "in b"])
            #expect(named.stdout == "in b\n")
            let interactive = try await cluster.kubectl(["exec", "-i", "web", "--", "cat"], input: "text\n")
            #expect(interactive.status == 1)
            #expect(interactive.stderr.contains(ExecWebSocket.interactiveUnsupported), "\(interactive.stderr)")
            let unknown = try await cluster.kubectl(["exec", "web", "-c", "nope", "--", "echo"])
            #expect(unknown.status == 1)
            #expect(unknown.stderr.contains("container nope is not valid for pod web"), "\(unknown.stderr)")
            let refused = try await cluster.kubectl(["exec", "web", "--", "echo", "hi"], config: cluster.viewerConfig)
            #expect(refused.status == 1)
            #expect(
                refused.stderr.contains(
                    #"pods "web" is forbidden: User "viewer" cannot create resource "pods/exec" in API group "" in the namespace "default""#),
                "\(refused.stderr)")
        }
        #expect(Self.fake.execCalls.contains { $0.command == ["echo", "hello", "a b"] && $0.container == "app" })
        #expect(!Self.fake.execCalls.contains { $0.command == ["echo", "hi"] })
    }

    @Test func capstanLogs() async throws {
        try await withCluster { cluster in
            func capstan(_ arguments: String...) async throws -> (status: Int32, output: String) {
                try await runCommand(
                    RunningServer.capstanBinary, ["logs"] + arguments + ["--kubeconfig", cluster.adminConfig], timeout: .seconds(60))
            }
            let follow = try await capstan("web", "-f")
            #expect(follow.status == 0, "\(follow.output)")
            #expect(follow.output == "one\ntwo\nthree\nfour\nfive\nsix\n")
            #expect(try await capstan("web", "--tail", "1", "--timestamps").output == FakePodStreaming.timestamp(0) + " four\n")
            #expect(try await capstan("multi", "-c", "a", "-n", "default").output == "from a\n")
            let waiting = try await capstan("starting")
            #expect(waiting.status == 2)
            #expect(
                waiting.output.contains(#"error: container "slow" in pod "starting" is waiting to start: ContainerCreating (HTTP 400"#),
                "\(waiting.output)")
            let missing = try await capstan("nope")
            #expect(missing.status == 2 && missing.output.contains(#"pods "nope" not found"#))
            let badTail = try await capstan("web", "--tail=-5")
            #expect(
                badTail.status == 64 && badTail.output.contains("--tail must be -1 (all lines) or a number of lines, not -5"), "\(badTail.output)")
        }
    }

    /// The Python kubernetes client's exec speaks `v4.channel.k8s.io` and sends `True`/`False` for booleans.
    static let pythonScript = """
        import sys
        from kubernetes import client, config
        from kubernetes.stream import stream
        config.load_kube_config(sys.argv[1])
        api = client.CoreV1Api()
        print("log:", repr(api.read_namespaced_pod_log("web", "default", tail_lines=2)))
        resp = stream(api.connect_get_namespaced_pod_exec, "web", "default", command=["exit", "4"],
                      stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
        resp.run_forever(timeout=20)
        print("exec:", repr(resp.read_stdout()), repr(resp.read_stderr()), resp.returncode)
        print("echo:", repr(stream(api.connect_get_namespaced_pod_exec, "web", "default", command=["echo", "from", "python"],
                                   stderr=True, stdin=False, stdout=True, tty=False)))
        """

    @Test func pythonClient() async throws {
        try await withCluster { cluster in
            let script = cluster.directory.appending("streaming.py")
            try Self.pythonScript.write(toFile: script, atomically: true, encoding: .utf8)
            var environment = ProcessInfo.processInfo.environment
            environment["HOME"] = cluster.directory.path
            let result = try await runCommand(
                "/usr/bin/env", ["python3", "-u", script, cluster.adminConfig], environment: environment, timeout: .seconds(60))
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output.contains("log: 'three\\nfour\\n'\n"), "\(result.output)")
            #expect(result.output.contains("exec: 'out\\n' 'err\\n' 4\n"), "\(result.output)")
            #expect(result.output.contains("echo: 'from python\\n'\n"), "\(result.output)")
        }
    }
}
