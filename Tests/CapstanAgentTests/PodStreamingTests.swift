import CRIAPI
import CapstanAPI
import CapstanAPIServer
import CapstanTestSupport
import CapstanTesting
import Foundation
import Synchronization
import Testing

@testable import CapstanAgent

/// Logs read back from CRI log files, and exec through ExecSync, for this node's pods.
struct AgentPodStreamingTests {
    @Test func criLogLinesBecomeWhatKubectlShows() {
        var remainder: [UInt8] = []
        var partial: [UInt8] = []
        let text =
            "2026-11-29T10:00:00.000000001Z stdout P hel\n2026-11-29T10:00:00.5Z stdout F lo\n2026-11-29T10:00:01Z stderr F oops\n2026-11-29T10:00:02Z stdout F unfin"
        let entries = CRILogReader.entries(from: Array(text.utf8), remainder: &remainder, partial: &partial)
        #expect(entries.map { String(decoding: $0.text, as: UTF8.self) } == ["hello\n", "oops\n"])
        #expect(String(decoding: remainder, as: UTF8.self) == "2026-11-29T10:00:02Z stdout F unfin")
        #expect(String(decoding: CRILogReader.render(entries[1], timestamps: true), as: UTF8.self) == "2026-11-29T10:00:01Z oops\n")
        #expect(entries[0].time.map { abs($0.timeIntervalSince1970 - 1_795_946_400.5) < 0.001 } == true)
        // Garbage lines are skipped, not fatal.
        let junk = CRILogReader.entries(from: Array("no spaces here\n\n".utf8), remainder: &remainder, partial: &partial)
        #expect(junk.isEmpty || junk.allSatisfy { !$0.text.isEmpty })
    }

    @Test func logsWithTailSinceAndPreviousAndExec() async throws {
        try await TemporaryDirectory.with(prefix: "capstan-streaming") { directory in
            let runtime = FakeRuntime()
            var sandbox = Runtime_V1_PodSandboxConfig()
            sandbox.metadata.uid = "u1"
            sandbox.labels = ["io.kubernetes.pod.uid": "u1"]
            let sandboxID = try await runtime.runPodSandbox(sandbox)
            func start(_ log: String, lines: [String]) async throws -> String {
                var config = Runtime_V1_ContainerConfig()
                config.metadata.name = "app"
                config.labels = ["io.kubernetes.pod.uid": "u1", "io.kubernetes.container.name": "app"]
                let id = try await runtime.createContainer(sandboxID: sandboxID, config: config, sandboxConfig: sandbox)
                try await runtime.startContainer(id)
                let path = directory.appending(log)
                try lines.joined().write(toFile: path, atomically: true, encoding: .utf8)
                runtime.state.withLock { $0.containers[id]?.status.logPath = path }
                return id
            }
            let old = try await start("0.log", lines: ["2026-01-01T00:00:00Z stdout F first run\n"])
            runtime.exit(old, code: 1)
            _ = try await start("1.log", lines: (0..<5).map { "2026-01-01T00:00:0\($0)Z stdout F line \($0)\n" })
            let streaming = AgentPodStreaming(nodeName: "n1", runtime: runtime)
            let pod = PodReference(namespace: "default", name: "p", uid: "u1")
            func read(_ options: PodLogOptions) async throws -> String {
                var text = ""
                for try await chunk in try await streaming.logs(node: "n1", pod: pod, options: options) {
                    text += String(decoding: chunk, as: UTF8.self)
                }
                return text
            }
            #expect(try await read(PodLogOptions(container: "app", tailLines: 2)) == "line 3\nline 4\n")
            #expect(try await read(PodLogOptions(container: "app", previous: true)) == "first run\n")
            #expect(try await read(PodLogOptions(container: "app", tailLines: 1, timestamps: true)) == "2026-01-01T00:00:04Z line 4\n")
            let since = ISO8601DateFormatter().date(from: "2026-01-01T00:00:03Z")!
            #expect(try await read(PodLogOptions(container: "app", sinceTime: since)) == "line 3\nline 4\n")
            let result = try await streaming.exec(node: "n1", pod: pod, options: PodExecOptions(container: "app", command: ["sh", "fail"]))
            #expect(result.exitCode == 1)
            await #expect(throws: PodStreamingError.self) {
                _ = try await streaming.logs(node: "other", pod: pod, options: PodLogOptions(container: "app"))
            }
            await #expect(throws: PodStreamingError.self) {
                _ = try await streaming.exec(node: "n1", pod: pod, options: PodExecOptions(container: "app", command: ["sh"], stdin: true))
            }
            await #expect(throws: PodStreamingError.self) {
                _ = try await streaming.logs(node: "n1", pod: pod, options: PodLogOptions(container: "nope"))
            }
        }
    }
}
