import CapstanCore
import CapstanTestSupport
import CapstanTesting
import Foundation
import OrderedCollections
import Testing

@testable import CapstanAgent

/// HTTP and TCP probes against real loopback listeners (Python's http.server and a closed port).
@Suite(.timeLimit(.minutes(5)))
struct ProbeTests {
    @Test func httpAndTcpProbes() async throws {
        let port = Int.random(in: 20_000..<40_000)
        let log = FileManager.default.temporaryDirectory.appending(path: "capstan-probe-\(port).log").path
        let server = try ChildProcess(
            executable: "/usr/bin/env",
            arguments: [
                "python3", "-c",
                """
                import http.server
                class H(http.server.BaseHTTPRequestHandler):
                    def do_GET(self):
                        self.send_response(200 if self.path == '/ok' else 500 if self.path == '/fail' else 404)
                        self.end_headers()
                    def log_message(self, *a): pass
                http.server.HTTPServer(('127.0.0.1', \(port)), H).serve_forever()
                """,
            ], logPath: log)
        defer {
            server.kill()
            try? FileManager.default.removeItem(atPath: log)
        }
        let container = Container(json: ["name": "c", "ports": [["name": "web", "containerPort": .int(Int64(port))]]])
        func run(_ probe: JSONObject) async -> ProbeOutcome {
            return await ProbeManager.execute(Probe(json: probe), container: container, containerID: "x", podIP: "127.0.0.1", runtime: FakeRuntime())
        }
        var up = ProbeOutcome.failure("")
        for _ in 0..<100 where up != .success {
            up = await run(["tcpSocket": ["port": "web"]])
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(up == .success)
        #expect(await run(["httpGet": ["path": "/ok", "port": "web"]]) == .success)
        #expect(await run(["httpGet": ["path": "/fail", "port": .int(Int64(port))]]) == .failure("HTTP probe failed with statuscode: 500"))
        #expect(await run(["httpGet": ["path": "/nothing", "port": "web"]]) == .failure("HTTP probe failed with statuscode: 404"))
        if case .failure(let message) = await run(["tcpSocket": ["port": 1]]) {
            #expect(message.contains("dial tcp 127.0.0.1:1"))
        } else {
            Issue.record("a closed port passed a TCP probe")
        }
        #expect(await run(["exec": ["command": ["true"]]]) == .success)
        #expect(await run(["exec": ["command": ["sh", "fail"]]]) != .success)
        #expect(await run(["grpc": ["port": 1]]) == .failure("probe has no supported handler (exec, httpGet, tcpSocket)"))
    }
}
