import CapstanTestSupport
import Foundation
import Testing

/// The node agent against containerd's CRI plugin (Debian's containerd 1.6),
/// not Capstan's shim: the agent is a plain CRI client. containerd runs with
/// its own root, socket and CNI network in a temporary folder and is stopped,
/// with its shims, mounts and bridge, afterwards.
@Suite(.serialized, .enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/containerd"), "needs root and containerd"))
struct ContainerdEndToEndTests {
    @Test(.timeLimit(.minutes(5)))
    func theAgentRunsPodsOnContainerd() async throws {
        let base = try TemporaryDirectory(prefix: "capstan-containerd")
        let namespacesBefore = Self.cniNamespaces()
        let containerd = try startContainerd(base)
        defer { stopContainerd(containerd, base, namespacesBefore: namespacesBefore) }
        let server = try await RunningServer(
            arguments: ["--with-node", "--node-name", "ctd-e2e", "--cri-socket", base.appending("containerd.sock"), "--service-proxy", "none"])
        defer { server.stop() }

        _ = try await server.kubectl(
            "apply", "-f", "-",
            input: """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: cfg, namespace: default}
                data: {greeting: hello-from-a-configmap}
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: talk, namespace: default}
                spec:
                  terminationGracePeriodSeconds: 2
                  initContainers:
                  - {name: init, image: localhost/busybox:1.35, imagePullPolicy: Never, command: ["sh", "-c", "echo init"]}
                  containers:
                  - name: talk
                    image: localhost/busybox:1.35
                    imagePullPolicy: Never
                    command: ["sh", "-c", "i=0; while true; do echo line $i $GREETING; i=$((i+1)); sleep 1; done"]
                    env: [{name: GREETING, valueFrom: {configMapKeyRef: {name: cfg, key: greeting}}}]
                    volumeMounts: [{name: cfg, mountPath: /etc/cfg}]
                    readinessProbe: {exec: {command: ["cat", "/etc/cfg/greeting"]}, periodSeconds: 1}
                  volumes: [{name: cfg, configMap: {name: cfg}}]
                """)
        try await waitFor("the pod Running and Ready on containerd") {
            let ready = try await server.kubectl(
                "get", "pod", "talk", "-o", #"jsonpath={.status.phase}/{.status.conditions[?(@.type=="Ready")].status}"#)
            return ready.output == "Running/True"
        }
        let runtime = try await server.kubectl("get", "node", "ctd-e2e", "-o", "jsonpath={.status.nodeInfo.containerRuntimeVersion}")
        #expect(runtime.output.hasPrefix("containerd://"), "\(runtime.output)")
        try await waitFor("log lines") {
            try await server.kubectl("logs", "talk", "-c", "talk", "--tail", "1").output.contains("hello-from-a-configmap")
        }
        let exec = try await server.kubectl("exec", "talk", "-c", "talk", "--", "cat", "/etc/cfg/greeting")
        #expect(exec.status == 0 && exec.output.contains("hello-from-a-configmap"), "exec: \(exec.output)")

        let deleted = try await server.kubectl("delete", "pod", "talk", "--wait=true", "--timeout=60s")
        #expect(deleted.status == 0, "\(deleted.output)")
        // containerd finishes removing a sandbox's container shortly after RemovePodSandbox returns.
        try await waitFor("containerd holding no container of the pod") {
            let left = try await runCommand("/usr/bin/ctr", ["-a", base.appending("containerd.sock"), "-n", "k8s.io", "containers", "ls", "-q"])
            return left.status == 0 && left.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        }
    }

    private func waitFor(_ what: String, _ condition: () async throws -> Bool) async throws {
        try await eventually(what, condition)
    }

    private func startContainerd(_ base: TemporaryDirectory) throws -> ChildProcess {
        let root = base.path
        try FileManager.default.createDirectory(atPath: root + "/net.d", withIntermediateDirectories: true)
        try """
        {"cniVersion": "1.0.0", "name": "capstan-ctd-e2e", "plugins": [
          {"type": "bridge", "bridge": "ctde2e0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
           "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.192.0.0/24"}]], "dataDir": "\(root)/ipam"}},
          {"type": "portmap", "capabilities": {"portMappings": true}}]}
        """.write(toFile: root + "/net.d/10-e2e.conflist", atomically: true, encoding: .utf8)
        try """
        version = 2
        root = "\(root)/containerd/root"
        state = "\(root)/containerd/state"
        disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs",
          "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
        [grpc]
          address = "\(root)/containerd.sock"
        [ttrpc]
          address = "\(root)/containerd.sock.ttrpc"
        [plugins."io.containerd.grpc.v1.cri"]
          sandbox_image = "localhost/pause:e2e"
          restrict_oom_score_adj = true
          disable_apparmor = true
          [plugins."io.containerd.grpc.v1.cri".containerd]
            snapshotter = "overlayfs"
            default_runtime_name = "runc"
            [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
              runtime_type = "io.containerd.runc.v2"
              [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
                SystemdCgroup = false
          [plugins."io.containerd.grpc.v1.cri".cni]
            bin_dir = "/usr/lib/cni"
            conf_dir = "\(root)/net.d"
        """.write(toFile: root + "/containerd.toml", atomically: true, encoding: .utf8)
        // The same busybox image Capstan builds, as OCI layouts containerd imports (and a pause image).
        for (name, extra) in [("localhost/busybox:1.35", [String]()), ("localhost/pause:e2e", ["--command", "sleep", "2147483647"])] {
            let layout = root + "/layout-\(name.split(separator: ":").last!)"
            let built = try runBlocking(
                RunningServer.capstanBinary,
                ["image", "build-busybox", "--root", root + "/images-\(extra.isEmpty ? "b" : "p")", "--oci-layout", layout, name] + extra)
            guard built == 0 else { throw HarnessError("capstan image build-busybox \(name) failed") }
            guard try runBlocking("/bin/tar", ["-C", layout, "-cf", layout + ".tar", "."]) == 0 else { throw HarnessError("tar \(layout) failed") }
        }
        let process = try ChildProcess(
            executable: "/usr/bin/containerd", arguments: ["--config", root + "/containerd.toml"], logPath: root + "/containerd.log")
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: root + "/containerd.sock") && Date() < deadline { usleep(100_000) }
        for tag in ["1.35", "e2e"] {
            let imported = try runBlocking(
                "/usr/bin/ctr", ["-a", root + "/containerd.sock", "-n", "k8s.io", "images", "import", root + "/layout-\(tag).tar"])
            guard imported == 0 else { throw HarnessError("ctr images import failed; containerd log: \(process.log.suffix(2000))") }
        }
        return process
    }

    /// Stops what containerd started for the test (its shims, by their socket address), then containerd;
    /// unmounts what is left under the folder and removes the bridge.
    /// containerd's pod network namespaces (`/run/netns/cni-…`).
    static func cniNamespaces() -> Set<String> {
        Set(((try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []).filter { $0.hasPrefix("cni-") })
    }

    private func stopContainerd(_ process: ChildProcess, _ base: TemporaryDirectory, namespacesBefore: Set<String>) {
        let address = base.appending("containerd.sock")
        for pid in (try? pids(matching: "containerd-shim-runc-v2")) ?? []
        where ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").contains(address) {
            kill(pid, SIGKILL)
        }
        kill(process.pid, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        process.kill()
        if let mounts = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) {
            let points = mounts.split(separator: "\n").compactMap { line -> String? in
                let fields = line.split(separator: " ")
                return fields.count > 4 && fields[4].hasPrefix(base.path) ? String(fields[4]) : nil
            }
            for point in points.sorted(by: >) { umount2(point, Int32(MNT_DETACH)) }
        }
        _ = try? runBlocking("/sbin/ip", ["link", "del", "ctde2e0"])
        // A sandbox containerd still held when it stopped (a failed test) leaves its namespace behind.
        for name in Self.cniNamespaces().subtracting(namespacesBefore) { _ = try? runBlocking("/sbin/ip", ["netns", "delete", name]) }
        base.remove()
    }

    private func pids(matching name: String) throws -> [Int32] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap(Int32.init).filter { pid in
            ((try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? "").hasPrefix(String(name.prefix(15)))
        }
    }

    private func runBlocking(_ executable: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
