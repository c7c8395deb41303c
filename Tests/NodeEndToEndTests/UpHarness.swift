import CapstanTestSupport
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `capstan up` as a user runs it, on a git repository made from the
/// template, with real runc, CNI, git and kubectl. Everything it started is
/// removed afterwards, also when the test fails: the process by PID, then
/// `capstan reset` for containers, sandboxes, network namespaces and mounts.
final class UpHarness: @unchecked Sendable {
    let directory: TemporaryDirectory
    let git: GitFixture
    let dataDirectory: String
    let port: Int
    /// The address `capstan up --listen` binds: loopback unless a test needs pods to reach the server.
    let listenHost: String
    let nodeName = "e2e-local-\(UInt32.random(in: 0..<1_000_000))"
    private(set) var process: ChildProcess
    let serviceProxy: Bool
    private var extraProcesses: [ChildProcess] = []
    var kubeconfig: String { dataDirectory + "/admin.kubeconfig" }
    static let sourceRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The repository `capstan up` follows: the fixture's bare remote, or the
    /// working repository `capstan up` made itself in `<data-dir>/repo`.
    let repository: String?

    /// - Parameters:
    ///   - config: capstan.yaml for the repository (the template's, by default).
    ///   - ownRepository: run `capstan up` without `--repo`, as a new user does:
    ///     it makes `<data-dir>/repo` from the template and follows that.
    ///   - serviceProxy: run the node's Service proxy and cluster DNS. One node per machine
    ///     may (they own an nftables table and an address); suites run side by side, so only
    ///     the suites about Services ask for it.
    init(
        config: String? = nil, serverOptions: [String] = [], ownRepository: Bool = false, listenHost: String = "127.0.0.1", serviceProxy: Bool = false
    ) async throws {
        directory = try TemporaryDirectory(prefix: "capstan-up")
        self.listenHost = listenHost
        self.serviceProxy = serviceProxy
        dataDirectory = directory.appending("data")
        git = try GitFixture()
        port = try freeLoopbackPort()
        if ownRepository {
            repository = nil
        } else {
            var files: [String: String?] = [:]
            let template = Self.sourceRoot.appending(path: "repo-template")
            for path in ["capstan.yaml", "README.md", "deploy/namespace.yaml", "deploy/web.yaml", "policies/require-team-label.yaml"] {
                files[path] = try String(contentsOf: template.appending(path: path), encoding: .utf8)
            }
            if let config { files["capstan.yaml"] = config }
            try git.commit(files, message: "Start from the Capstan template")
            repository = git.remote.path
        }
        process = try Self.start(
            dataDirectory: dataDirectory, repo: repository, listen: "\(listenHost):\(port)", nodeName: nodeName, directory: directory,
            serverOptions: serverOptions + (serviceProxy ? [] : ["--service-proxy", "none"]), log: "up.log")
        _ = try await process.waitForLog(containing: "Capstan is up.", timeout: .seconds(180))
    }

    /// Runs `body` on a new harness and tears it down afterwards, also when `body` throws.
    static func with(
        config: String? = nil, serverOptions: [String] = [], ownRepository: Bool = false, listenHost: String = "127.0.0.1",
        serviceProxy: Bool = false, _ body: (UpHarness) async throws -> Void
    ) async throws {
        let harness = try await UpHarness(
            config: config, serverOptions: serverOptions, ownRepository: ownRepository, listenHost: listenHost, serviceProxy: serviceProxy)
        do {
            try await body(harness)
        } catch {
            await harness.tearDown()
            throw error
        }
        await harness.tearDown()
    }

    private static func start(
        dataDirectory: String, repo: String?, listen: String, nodeName: String, directory: TemporaryDirectory, serverOptions: [String], log: String
    ) throws -> ChildProcess {
        try ChildProcess(
            executable: RunningServer.capstanBinary,
            arguments: ["up", "--data-dir", dataDirectory] + (repo.map { ["--repo", $0] } ?? []) + [
                "--listen", listen, "--sync-interval", "1",
                "--node-name", nodeName, "--cni-conf-dir", directory.appending("cni"), "--log-level", "info",
            ] + (serverOptions.isEmpty ? [] : ["--"] + serverOptions),
            logPath: directory.appending(log))
    }

    /// Stops `capstan up` the way Ctrl-C does; true when it exited by itself, cleanly, in time.
    func interrupt() async -> Bool {
        kill(process.pid, SIGINT)
        let deadline = ContinuousClock.now + .seconds(30)
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        let clean = !process.isRunning && process.terminationStatus == 0
        process.kill()
        return clean
    }

    /// Starts `capstan up` again on the same data directory and repository.
    func restart(serverOptions: [String] = []) async throws {
        process = try Self.start(
            dataDirectory: dataDirectory, repo: repository, listen: "\(listenHost):\(port)", nodeName: nodeName, directory: directory,
            serverOptions: serverOptions + (serviceProxy ? [] : ["--service-proxy", "none"]), log: "up-2.log")
        _ = try await process.waitForLog(containing: "Capstan is up.", timeout: .seconds(180))
    }

    func track(_ child: ChildProcess) { extraProcesses.append(child) }

    func tearDown() async {
        for child in extraProcesses { child.kill() }
        _ = await interrupt()
        let reset = try? await runCommand(RunningServer.capstanBinary, ["reset", "--data-dir", dataDirectory], timeout: .seconds(120))
        if reset?.status != 0 { Issue.record("capstan reset failed: \(reset?.output ?? "did not run")") }
        directory.remove()
    }

    // MARK: Tools

    func kubectl(_ arguments: String...) async throws -> String {
        var environment = ProcessInfo.processInfo.environment
        environment["KUBECONFIG"] = kubeconfig
        environment["HOME"] = directory.path
        let result = try await runCommand(
            // Global flags first: after `exec … --` everything belongs to the container's command.
            "/usr/bin/kubectl", ["--cache-dir", directory.appending("kube-cache")] + arguments, environment: environment, timeout: .seconds(60))
        guard result.status == 0 else { throw HarnessError("kubectl \(arguments.joined(separator: " ")) failed: \(result.output)") }
        return result.output
    }

    func capstan(_ arguments: String...) async throws -> (status: Int32, output: String) {
        try await runCommand(RunningServer.capstanBinary, arguments, timeout: .seconds(120))
    }

    /// The web app's pods: name, IP, image, ready, restarts, node, terminating.
    struct WebPod: Equatable {
        var name: String, ip: String, image: String, ready: Bool, restarts: Int, node: String, terminating: Bool, containerID: String
    }

    func webPods() async throws -> [WebPod] {
        let format =
            #"{range .items[*]}{.metadata.name}|{.status.podIP}|{.spec.containers[0].image}|{.status.conditions[?(@.type=="Ready")].status}|{.status.containerStatuses[0].restartCount}|{.spec.nodeName}|{.metadata.deletionTimestamp}|{.status.containerStatuses[0].containerID}{"\n"}{end}"#
        let output = try await kubectl("get", "pods", "-n", "demo", "-l", "app.kubernetes.io/name=web", "-o", "jsonpath=" + format)
        return output.split(separator: "\n").map { line in
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            return WebPod(
                name: f[0], ip: f[1], image: f[2], ready: f[3] == "True", restarts: Int(f[4]) ?? 0, node: f[5], terminating: !f[6].isEmpty,
                containerID: f[7])
        }
    }

    /// Waits (``eventually``) until `condition` holds; on a timeout the error
    /// carries the pods and the tail of Capstan's log.
    func waitFor(_ what: String, timeout: Duration = .seconds(120), _ condition: () async throws -> Bool) async throws {
        do {
            try await eventually(what, timeout: timeout, condition)
        } catch let timedOut as TimedOut {
            let state = (try? await kubectl("get", "pods", "-A", "-o", "wide")) ?? "(kubectl failed)"
            let nodes = (try? await kubectl("get", "nodes", "-o", "wide")) ?? "(kubectl failed)"
            // Other processes the test started (a second node's agent) say why they are behind.
            let others = extraProcesses.map { "\($0.logPath) tail:\n\($0.log.suffix(2000))" }.joined(separator: "\n")
            throw HarnessError("\(timedOut)\npods:\n\(state)\nnodes:\n\(nodes)\nlog tail:\n\(process.log.suffix(3000))\n\(others)")
        }
    }

    /// The web app as the final state of a rollout: `count` ready pods of `image`, nothing else.
    func webIsRolledOut(image: String, count: Int) async throws -> Bool {
        let pods = try await webPods()
        return pods.count == count && pods.allSatisfy { $0.ready && $0.image == image && !$0.terminating }
    }

    func gitOpsState() async throws -> String {
        let result = try await capstan("status", "--kubeconfig", kubeconfig, "-o", "json")
        let json = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
        return (json?["gitops"] as? [String: Any])?["state"] as? String ?? ""
    }

    func remoteLog() throws -> [String] {
        try git.git(["--git-dir", git.remote.path, "log", "--format=%H %s", "main"], in: git.root).split(separator: "\n").map(String.init)
    }

    /// Brings the working clone up to date with commits the server pushed (rollbacks).
    func pull() throws {
        try git.git(["pull", "--quiet", "--rebase", "origin", "main"], in: git.work)
    }

    static func httpGet(_ url: String, timeout: TimeInterval = 2) async -> Result<String, HarnessError> {
        guard let address = URL(string: url) else { return .failure(HarnessError("bad URL \(url)")) }
        var request = URLRequest(url: address)
        request.timeoutInterval = timeout
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            let code = (response as? HTTPURLResponse)?.statusCode ?? 0
            guard code == 200 else { return .failure(HarnessError("\(url): HTTP \(code)")) }
            return .success(String(decoding: data, as: UTF8.self))
        } catch {
            return .failure(HarnessError("\(url): \(error.localizedDescription)"))
        }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
