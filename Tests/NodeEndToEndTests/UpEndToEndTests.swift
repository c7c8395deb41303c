import CapstanTestSupport
import Foundation
import Synchronization
import Testing

/// Requests to the web app's ready endpoints, as a proxy would send them:
/// the endpoints list is re-read every few hundred milliseconds, requests go
/// round-robin, every failure is kept.
final class LoadLoop: Sendable {
    private struct State {
        var addresses: [String] = []
        var successes = 0
        var failures: [String] = []
        var next = 0
    }

    private let state = Mutex(State())
    private let stopped = Atomic(false)

    func run(_ harness: UpHarness) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while !self.stopped.load(ordering: .relaxed) {
                    if let output = try? await harness.kubectl(
                        "get", "endpoints", "web", "-n", "demo", "-o", "jsonpath={.subsets[*].addresses[*].ip}")
                    {
                        let addresses = output.split(separator: " ").map(String.init)
                        self.state.withLock { $0.addresses = addresses }
                    }
                    try? await Task.sleep(for: .milliseconds(300))
                }
            }
            group.addTask {
                while !self.stopped.load(ordering: .relaxed) {
                    let address = self.state.withLock { state -> String? in
                        guard !state.addresses.isEmpty else { return nil }
                        state.next += 1
                        return state.addresses[state.next % state.addresses.count]
                    }
                    if let address {
                        switch await UpHarness.httpGet("http://\(address):8080/") {
                        case .success: self.state.withLock { $0.successes += 1 }
                        case .failure(let error): self.state.withLock { $0.failures.append("\(Date()): \(error)") }
                        }
                    }
                    try? await Task.sleep(for: .milliseconds(40))
                }
            }
        }
    }

    func stop() { stopped.store(true, ordering: .relaxed) }
    var successes: Int { state.withLock { $0.successes } }
    var failures: [String] { state.withLock { $0.failures } }
}

private let repositoryConfig = """
    apiVersion: capstan.io/v1alpha1
    kind: Repository
    paths: [deploy]
    prune: true
    selfHeal: true
    syncInterval: 1s
    healthTimeout: 20s
    policies: policies
    ignoreDifferences:
      - kind: Deployment
        name: web
        jsonPointers: [/spec/replicas]
    autoRollback:
      enabled: true
      after: 25s

    """

/// From `capstan up` to a healed cluster, on the real thing (root, runc, CNI, git, kubectl).
@Suite(.serialized, .enabled(if: getuid() == 0, "needs root: runc, network namespaces and mounts"))
struct UpEndToEndTests {
    @Test(.timeLimit(.minutes(15)))
    func fromCommitToRunningContainersAndBack() async throws {
        try await UpHarness.with(
            config: repositoryConfig,
            serverOptions: ["--node-monitor-grace-period", "8", "--default-toleration-seconds", "3", "--node-lease-duration", "8"],
            run)
    }

    private func run(_ harness: UpHarness) async throws {
        let web = UpHarness.sourceRoot.appending(path: "repo-template/deploy/web.yaml")
        var manifest = try String(contentsOf: web, encoding: .utf8)

        // 1. The template's app runs and answers on its pod IP.
        try await harness.waitFor("the template's web pod Ready") {
            try await harness.webIsRolledOut(image: "localhost/capstan/busybox:1.35", count: 1)
        }
        let first = try #require(try await harness.webPods().first)
        guard case .success(let page) = await UpHarness.httpGet("http://\(first.ip):8080/") else {
            Issue.record("the web pod at \(first.ip) did not answer")
            return
        }
        #expect(page.contains("Hello from Capstan"))
        #expect(try await harness.kubectl("get", "node", harness.nodeName).contains("Ready"))

        // 2. Three replicas.
        manifest = manifest.replacingOccurrences(of: "replicas: 1", with: "replicas: 3")
        try harness.git.commit(["deploy/web.yaml": manifest], message: "Run three replicas")
        try await harness.waitFor("three ready pods") { try await harness.webIsRolledOut(image: "localhost/capstan/busybox:1.35", count: 3) }
        try await harness.waitFor("GitOps Synced") { try await harness.gitOpsState() == "Synced" }

        // 3. A new image tag rolls out while requests keep flowing: none fails.
        let build = try await harness.capstan("image", "build-busybox", "--root", harness.dataDirectory + "/cri", "localhost/capstan/busybox:v2")
        #expect(build.status == 0, "\(build.output)")
        let load = LoadLoop()
        let loadTask = Task { await load.run(harness) }
        try await Task.sleep(for: .seconds(2))
        manifest = manifest.replacingOccurrences(of: "busybox:1.35", with: "busybox:v2")
        let upgrade = try harness.git.commit(["deploy/web.yaml": manifest], message: "Serve from the v2 image")
        try await harness.waitFor("the v2 rollout") { try await harness.webIsRolledOut(image: "localhost/capstan/busybox:v2", count: 3) }
        try await Task.sleep(for: .seconds(3))
        load.stop()
        await loadTask.value
        #expect(load.failures.isEmpty, "requests failed during the rolling update: \(load.failures.prefix(10))")
        #expect(load.successes > 20, "only \(load.successes) requests were made")
        print("rolling update: \(load.successes) requests, \(load.failures.count) failed")

        // 4. A commit whose pods never become ready: the rollout stalls, GitOps says Degraded,
        //    auto-rollback pushes a revert, and the cluster returns to v2.
        let broken = manifest.replacingOccurrences(of: "              path: /\n", with: "              path: /not-there\n")
        #expect(broken != manifest)
        try harness.git.commit(["deploy/web.yaml": broken], message: "Check readiness on a page that does not exist")
        try await harness.waitFor("a new pod that stays unready") { try await harness.webPods().contains { !$0.ready && !$0.terminating } }
        #expect(try await harness.webPods().filter { $0.ready }.count == 3, "the old pods keep serving while the rollout stalls")
        try await harness.waitFor("GitOps Degraded", timeout: .seconds(90)) { try await harness.gitOpsState() == "Degraded" }
        try await harness.waitFor("an automatic revert commit", timeout: .seconds(120)) { try harness.remoteLog().first?.contains("Revert") == true }
        try await harness.waitFor("the cluster back on the good commit") {
            let path = try await harness.kubectl(
                "get", "deployment", "web", "-n", "demo", "-o", "jsonpath={.spec.template.spec.containers[0].readinessProbe.httpGet.path}")
            let rolledOut = try await harness.webIsRolledOut(image: "localhost/capstan/busybox:v2", count: 3)
            return path == "/" && rolledOut
        }
        try harness.pull()

        // 5. `git revert` by hand of the v2 commit: back to 1.35.
        try harness.git.git(["revert", "--no-edit", upgrade], in: harness.git.work)
        try harness.git.git(["push", "--quiet", "origin", "main"], in: harness.git.work)
        try await harness.waitFor("the cluster following the hand revert") {
            try await harness.webIsRolledOut(image: "localhost/capstan/busybox:1.35", count: 3)
        }

        // 6. kill -9 of a container's process: the agent starts it again.
        let victim = try #require(try await harness.webPods().first)
        let containerID = String(victim.containerID.split(separator: "/").last ?? "")
        let record =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: "\(harness.dataDirectory)/cri/containers/\(containerID)/container.json")))
            as? [String: Any]
        let pid = try #require(record?["pid"] as? Int)
        #expect(kill(Int32(pid), SIGKILL) == 0)
        try await harness.waitFor("the killed container restarted and ready") {
            let pod = try await harness.webPods().first { $0.name == victim.name }
            return pod?.restarts == victim.restarts + 1 && pod?.ready == true
        }

        // 7. A second node whose agent dies: NotReady, its pods evicted and replaced on the live node.
        let token = try await harness.capstan("token", "create", "--data-dir", harness.dataDirectory, "--role", "node", "--node", "e2e-remote")
        let kubeconfig = try await harness.capstan(
            "kubeconfig", "--data-dir", harness.dataDirectory, "--token", String(token.output.split(separator: "\n").last ?? ""))
        let nodeKubeconfig = harness.directory.appending("node.kubeconfig")
        try kubeconfig.output.write(toFile: nodeKubeconfig, atomically: true, encoding: .utf8)
        let agent = try ChildProcess(
            executable: RunningServer.capstanBinary,
            arguments: [
                "agent", "--kubeconfig", nodeKubeconfig, "--node-name", "e2e-remote", "--cri-socket", harness.dataDirectory + "/cri.sock",
                "--root", harness.directory.appending("remote-agent"), "--node-lease-duration", "8", "--service-proxy", "none",
            ],
            logPath: harness.directory.appending("agent.log"))
        harness.track(agent)
        try await harness.waitFor("the remote node Ready") {
            try await harness.kubectl("get", "node", "e2e-remote", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}") == "True"
        }
        _ = try await harness.kubectl("cordon", harness.nodeName)
        _ = try await harness.kubectl("scale", "deployment", "web", "-n", "demo", "--replicas", "5")
        try await harness.waitFor("two pods on the remote node") {
            try await harness.webPods().filter { $0.node == "e2e-remote" && $0.ready }.count == 2
        }
        // Their token volumes were filled over HTTP with the node's token, past NodeRestriction:
        // each holds a token bound to its own pod.
        for remote in try await harness.webPods().filter({ $0.node == "e2e-remote" }) {
            let uid = try await harness.kubectl("get", "pod", remote.name, "-n", "demo", "-o", "jsonpath={.metadata.uid}")
            let volumes = harness.directory.appending("remote-agent") + "/pods/\(uid)/volumes"
            let access = try #require(try FileManager.default.contentsOfDirectory(atPath: volumes).first { $0.hasPrefix("kube-api-access-") })
            let token = try String(contentsOfFile: "\(volumes)/\(access)/volume/token", encoding: .utf8)
            let parts = token.split(separator: ".")
            #expect(parts.count == 3, "\(token.prefix(40))")
            var payload = String(parts.count == 3 ? parts[1] : "").replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while payload.count % 4 != 0 { payload += "=" }
            let claims = try #require(Data(base64Encoded: payload).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] })
            let bound = (claims["kubernetes.io"] as? [String: Any])?["pod"] as? [String: Any]
            #expect(bound?["name"] as? String == remote.name && bound?["uid"] as? String == uid, "\(claims)")
        }
        _ = try await harness.kubectl("uncordon", harness.nodeName)
        agent.kill()
        try await harness.waitFor("the remote node NotReady", timeout: .seconds(90)) {
            try await harness.kubectl("get", "node", "e2e-remote", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}") == "Unknown"
        }
        try await harness.waitFor("the remote pods evicted and replaced on the live node", timeout: .seconds(90)) {
            let pods = try await harness.webPods()
            return pods.filter { $0.node == "e2e-remote" }.allSatisfy(\.terminating)
                && pods.filter { $0.node == harness.nodeName && $0.ready && !$0.terminating }.count == 5
        }
        let events = try await harness.kubectl("get", "events", "-n", "demo", "--field-selector", "reason=TaintManagerEviction")
        #expect(events.contains("Marking for deletion"))

        // 8. Ctrl-C stops cleanly; a new `capstan up` adopts the running pods instead of restarting them.
        let before = try await harness.webPods().filter { $0.node == harness.nodeName }
        let stoppedCleanly = await harness.interrupt()
        #expect(stoppedCleanly, "capstan up did not stop cleanly on SIGINT")
        try await harness.restart(serverOptions: ["--node-lease-duration", "8"])
        try await Task.sleep(for: .seconds(5))
        let after = try await harness.webPods().filter { $0.node == harness.nodeName }
        #expect(Set(after.map(\.containerID)) == Set(before.map(\.containerID)), "containers were replaced instead of adopted")
        #expect(after.allSatisfy { $0.ready })
    }
}
