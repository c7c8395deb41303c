import CapstanTestSupport
import Foundation
import Testing

private let repositoryConfig = "apiVersion: capstan.io/v1alpha1\nkind: Repository\npaths: [deploy]\n"
private let namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n"

extension GitOpsEndToEndTests {
    /// The webhook secret and the clone of the repository are private from the
    /// moment they exist: created with their mode (seen in the system calls
    /// the real server makes), never chmod'ed afterwards.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/strace")))
    func theWebhookSecretAndTheCloneArePrivateFromTheirCreation() async throws {
        let git = try GitFixture()
        try git.commit(["capstan.yaml": repositoryConfig, "deploy/namespace.yaml": namespace], message: "Start")
        let directory = try TemporaryDirectory(prefix: "capstan-private-files")
        defer { directory.remove() }
        let data = directory.appending("data")
        let trace = directory.appending("syscalls")
        let server = try ChildProcess(
            executable: "/usr/bin/strace",
            arguments: [
                "-f", "--seccomp-bpf", "-qq", "-e", "trace=open,openat,creat,chmod,fchmodat,mkdir,mkdirat", "-o", trace,
                RunningServer.capstanBinary, "server", "--data-dir", data, "--listen", "127.0.0.1:\(try freeLoopbackPort())",
                "--durability", "normal", "--repo", git.remote.path, "--default-policies", "none",
            ],
            logPath: directory.appending("server.log"))
        defer { Self.stopTraced(server) }
        _ = try await server.waitForLog(containing: "capstan server listening on")
        try await eventually("the repository is cloned") { FileManager.default.fileExists(atPath: data + "/git/HEAD") }
        Self.stopTraced(server)

        let calls = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n")
        let secretPath = data + "/webhook-secret"
        let creations = calls.filter { $0.contains("\"\(secretPath)") && $0.contains("O_CREAT") }
        #expect(!creations.isEmpty && creations.allSatisfy { $0.contains(", 0600") }, "\(creations)")
        let chmods = calls.filter { ($0.contains("chmod(") || $0.contains("chmodat(")) && $0.contains(secretPath) }
        #expect(chmods.isEmpty, "\(chmods)")
        let cloneDirectory = calls.filter { $0.contains("mkdir") && $0.contains("\"\(data)/git\"") }
        // (strace splits a call another thread interrupts: "mkdir(\"…\", 0700 <unfinished ...>".)
        #expect(cloneDirectory.count == 1 && cloneDirectory.allSatisfy { $0.contains(", 0700") }, "\(cloneDirectory)")
        let modes = try [secretPath, data + "/git"].map { try FileManager.default.attributesOfItem(atPath: $0)[.posixPermissions] as? Int }
        #expect(modes == [0o600, 0o700], "\(modes)")
    }

    /// Stops the server strace runs (its only child) gracefully, then strace.
    static func stopTraced(_ tracer: ChildProcess) {
        let children = (try? String(contentsOfFile: "/proc/\(tracer.pid)/task/\(tracer.pid)/children", encoding: .utf8)) ?? ""
        for child in children.split(separator: " ").compactMap({ Int32($0) }) { kill(child, SIGTERM) }
        let deadline = Date().addingTimeInterval(15)
        while tracer.isRunning && Date() < deadline { usleep(20_000) }
        // strace runs until its tracee is gone: while it runs, the child's PID is still the child's.
        if tracer.isRunning {
            for child in children.split(separator: " ").compactMap({ Int32($0) }) { kill(child, SIGKILL) }
        }
        tracer.kill()
    }
}
