import CapstanAPI
import CapstanCore
import CapstanTestSupport
import CapstanTesting
import Foundation
import OrderedCollections
import Testing

@testable import CapstanAPIServer

#if canImport(Glibc)
    import Glibc
#endif

/// Pods for the streaming tests: bound to `node-1` unless `node` is nil.
enum StreamingPods {
    static func pod(
        _ name: String, containers: [String] = ["app"], initContainers: [String] = [], node: String? = "node-1",
        annotations: [String: String] = [:]
    ) -> JSONValue {
        var spec: JSONObject = ["containers": .array(containers.map { ["name": .string($0), "image": "busybox"] })]
        if !initContainers.isEmpty { spec["initContainers"] = .array(initContainers.map { ["name": .string($0), "image": "busybox"] }) }
        if let node { spec["nodeName"] = .string(node) }
        var metadata: JSONObject = ["name": .string(name)]
        if !annotations.isEmpty {
            var values = JSONObject()
            for (key, value) in annotations { values[key] = .string(value) }
            metadata["annotations"] = .object(values)
        }
        return ["apiVersion": "v1", "kind": "Pod", "metadata": .object(metadata), "spec": .object(spec)]
    }
}

@Suite struct PodStreamRequestTests {
    @Test func queryKeepsRepeatedCommandsAndDecodesAsGoEncodes() {
        let query = QueryItems("command=sh&command=-c&command=echo+a%26b+%2B1&container=app&stdout=true&stdout=false")
        #expect(query.values("command") == ["sh", "-c", "echo a&b +1"])
        #expect(query["container"] == "app")
        #expect(query["stdout"] == "true")  // the first, as Go's url.Values.Get
        #expect(QueryItems(nil).items.isEmpty)
        #expect(QueryItems("&&=&a").values("a") == [""])
    }

    @Test func logOptionsParseEveryParameter() throws {
        let query = QueryItems("follow=true&previous=1&timestamps=True&tailLines=10&limitBytes=500&sinceTime=2026-01-02T03:04:05.5Z")
        let options = try PodLogOptions(query: query, container: "app", pod: "p")
        #expect(options.follow && options.previous && options.timestamps)
        #expect(options.tailLines == 10 && options.limitBytes == 500 && options.sinceSeconds == nil)
        #expect(options.sinceTime == Date(timeIntervalSince1970: 1_767_323_045.5))
        #expect(try PodLogOptions(query: QueryItems("sinceSeconds=30"), container: "app", pod: "p").sinceSeconds == 30)
        #expect(try PodLogOptions(query: QueryItems(""), container: "app", pod: "p") == PodLogOptions(container: "app"))
    }

    @Test func hostileLogOptionsAreRefusedPrecisely() {
        func refusal(_ raw: String) -> APIError? {
            do {
                _ = try PodLogOptions(query: QueryItems(raw), container: "app", pod: "p")
                return nil
            } catch {
                return error
            }
        }
        #expect(refusal("tailLines=99999999999999999999999")?.message == #"tailLines must be an integer, not "99999999999999999999999""#)
        #expect(refusal("tailLines=abc")?.code == 400)
        #expect(refusal("follow=yes")?.message == #"follow must be true or false, not "yes""#)
        #expect(refusal("sinceTime=yesterday")?.code == 400)
        // Out-of-range values are 422 Invalid, worded as Kubernetes' ValidatePodLogOptions.
        let negative = refusal("sinceSeconds=-5")
        #expect(negative?.code == 422)
        #expect(negative?.message == #"PodLogOptions "p" is invalid: sinceSeconds: Invalid value: -5: must be greater than 0"#)
        #expect(refusal("sinceSeconds=0")?.code == 422)
        #expect(
            refusal("tailLines=-1")?.message == #"PodLogOptions "p" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0"#)
        #expect(refusal("limitBytes=0")?.message == #"PodLogOptions "p" is invalid: limitBytes: Invalid value: 0: must be greater than 0"#)
        #expect(
            refusal("sinceSeconds=5&sinceTime=2026-01-02T03:04:05Z")?.message.hasSuffix(
                "at most one of `sinceTime` or `sinceSeconds` may be specified") == true)
        // A huge but valid tail is passed on; the node bounds what it reads.
        #expect(refusal("tailLines=9223372036854775807") == nil)
    }

    @Test func containerDefaultsAsKubernetesDoes() throws {
        let single = try PodStreamTarget(pod: StreamingPods.pod("p"), namespace: "default", name: "p", container: nil)
        #expect(single.container == "app" && single.node == "node-1" && single.pod.namespace == "default")
        #expect(try PodStreamTarget(pod: StreamingPods.pod("p"), namespace: "default", name: "p", container: "").container == "app")
        let multi = StreamingPods.pod("p", containers: ["a", "b"], initContainers: ["init"])
        #expect(throws: APIError.badRequest("a container name must be specified for pod p, choose one of: [init a b]")) {
            try PodStreamTarget(pod: multi, namespace: "default", name: "p", container: nil)
        }
        #expect(try PodStreamTarget(pod: multi, namespace: "default", name: "p", container: "init").container == "init")
        let annotated = StreamingPods.pod("p", containers: ["a", "b"], annotations: [PodStreamTarget.defaultContainerAnnotation: "b"])
        #expect(try PodStreamTarget(pod: annotated, namespace: "default", name: "p", container: nil).container == "b")
        #expect(throws: APIError.badRequest("container c is not valid for pod p")) {
            try PodStreamTarget(pod: multi, namespace: "default", name: "p", container: "c")
        }
        #expect(throws: APIError.badRequest("pod p does not have a host assigned")) {
            try PodStreamTarget(pod: StreamingPods.pod("p", node: nil), namespace: "default", name: "p", container: nil)
        }
        #expect(throws: APIError.badRequest("a container name must be specified for pod p")) {
            try PodStreamTarget(pod: StreamingPods.pod("p", containers: []), namespace: "default", name: "p", container: nil)
        }
    }

    @Test func execOptionsNeedACommandAndAStream() throws {
        let options = try PodExecOptions(query: QueryItems("command=ls&command=-l&stdout=true&stderr=true"), container: "app")
        #expect(options == PodExecOptions(container: "app", command: ["ls", "-l"]))
        #expect(try PodExecOptions(query: QueryItems("command=cat&stdin=true&tty=true"), container: "app").tty)
        #expect(throws: APIError.badRequest("you must specify at least one command for the container")) {
            try PodExecOptions(query: QueryItems("stdout=true"), container: "app")
        }
        #expect(throws: APIError.badRequest("you must specify at least one command for the container")) {
            try PodExecOptions(query: QueryItems("command=&stdout=true"), container: "app")
        }
        #expect(throws: APIError.badRequest("you must specify at least 1 of stdin, stdout, stderr")) {
            try PodExecOptions(query: QueryItems("command=ls"), container: "app")
        }
        #expect(throws: APIError.self) { try PodExecOptions(query: QueryItems("command=ls&stdout=maybe"), container: "app") }
    }

    @Test func exitCodesBecomeTheStatusKubectlDecodes() {
        #expect(ExecSession.status(exitCode: 0, command: ["true"]) == ["metadata": .object([:]), "status": "Success"])
        let failed = ExecSession.status(exitCode: 3, command: ["sh", "-c", "exit 3"])
        #expect(failed["reason"] == "NonZeroExitCode")
        #expect(failed[path: ["details", "causes"]] == [["reason": "ExitCode", "message": "3"]])
        #expect(ExecSession.status(exitCode: 300, command: ["x"])["reason"] == "InternalError")
        #expect(ExecSession.status(exitCode: -1, command: ["x"])["status"] == "Failure")
    }

    @Test func nodeErrorsMapToKubernetesWording() {
        #expect(
            APIError.podStreaming(.containerNotStarted("c", reason: "ContainerCreating"), pod: "p").message
                == #"container "c" in pod "p" is waiting to start: ContainerCreating"#)
        #expect(APIError.podStreaming(.noPreviousInstance("c"), pod: "p").message == #"previous terminated container "c" in pod "p" not found"#)
        #expect(APIError.podStreaming(.containerNotFound("c"), pod: "p").code == 400)
        #expect(
            APIError.podStreaming(.nodeUnreachable("n1: connection refused"), pod: "p").message == "error dialing backend: n1: connection refused")
    }
}

/// The log endpoint over HTTP, against the in-process server and a fake node agent.
@Suite struct PodLogEndpointTests {
    static let fake = FakePodStreaming(
        lines: ["app": ["one", "two", "three"], "a": ["from a"], "b": ["from b"]], previousLines: ["app": ["before the crash"]],
        waiting: ["slow": "ContainerCreating"], followLines: ["four", "five"])

    private func withPods(_ fake: FakePodStreaming? = Self.fake, _ body: (InProcessServer) async throws -> Void) async throws {
        try await InProcessServer.with(podStreaming: fake) { server in
            let options = WriteOptions(fieldManager: "test")
            for pod in [
                StreamingPods.pod("web"), StreamingPods.pod("multi", containers: ["a", "b"]), StreamingPods.pod("pending", node: nil),
                StreamingPods.pod("starting", containers: ["slow"]), StreamingPods.pod("lost", node: "node-9"),
            ] {
                _ = try await server.registry.create(BuiltinKinds.pod, namespace: "default", object: pod, options: options)
            }
            try await body(server)
        }
    }

    @Test func servesTheLogAsPlainText() async throws {
        try await withPods { server in
            let response = try await server.request("GET", "/api/v1/namespaces/default/pods/web/log")
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == "text/plain")
            #expect(response.text == "one\ntwo\nthree\n")
            let tail = try await server.request("GET", "/api/v1/namespaces/default/pods/web/log?tailLines=1&timestamps=true")
            #expect(tail.text == FakePodStreaming.timestamp(0) + " three\n")
            let limited = try await server.request("GET", "/api/v1/namespaces/default/pods/web/log?limitBytes=6")
            #expect(limited.text == "one\ntw")
            #expect(try await server.request("GET", "/api/v1/namespaces/default/pods/multi/log?container=b").text == "from b\n")
        }
    }

    @Test func followStreamsUntilTheContainerStops() async throws {
        try await withPods { server in
            let connection = try server.connect()
            try await connection.send("GET", "/api/v1/namespaces/default/pods/web/log?follow=true")
            let response = try await connection.readResponse()
            #expect(response.headers["transfer-encoding"] == "chunked")
            #expect(response.text == "one\ntwo\nthree\nfour\nfive\n")
        }
    }

    @Test func aFollowEndsWhenItsClientLeaves() async throws {
        let endless = FakePodStreaming(lines: ["app": ["first"]], followLines: (1...2000).map { "line \($0)" }, followInterval: .milliseconds(20))
        try await withPods(endless) { server in
            let connection = try server.connect()
            try await connection.send("GET", "/api/v1/namespaces/default/pods/web/log?follow=true")
            let deadline = ContinuousClock.now + .seconds(20)
            _ = try await connection.readHead(deadline: deadline)
            #expect(try await connection.readChunk(deadline: deadline) == Array("first\n".utf8))
            #expect(endless.cancelledLogStreams == 0)
            shutdown(connection.fd, Int32(SHUT_RDWR))
            // The node's stream is cancelled promptly, not after its 40 s of lines.
            while endless.cancelledLogStreams == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            #expect(endless.cancelledLogStreams == 1)
        }
    }

    @Test func refusesAsKubernetesDoes() async throws {
        try await withPods { server in
            func status(_ path: String) async throws -> (Int, String) {
                let response = try await server.request("GET", path)
                return (response.status, response.json?["message"]?.stringValue ?? response.text)
            }
            let base = "/api/v1/namespaces/default/pods"
            #expect(try await status("\(base)/multi/log") == (400, "a container name must be specified for pod multi, choose one of: [a b]"))
            #expect(try await status("\(base)/web/log?container=nope") == (400, "container nope is not valid for pod web"))
            #expect(try await status("\(base)/pending/log") == (400, "pod pending does not have a host assigned"))
            #expect(try await status("\(base)/starting/log") == (400, #"container "slow" in pod "starting" is waiting to start: ContainerCreating"#))
            #expect(
                try await status("\(base)/multi/log?container=a&previous=true") == (
                    400, #"previous terminated container "a" in pod "multi" not found"#
                ))
            #expect(try await status("\(base)/web/log?sinceSeconds=-1").0 == 422)
            #expect(try await status("\(base)/nope/log") == (404, #"pods "nope" not found"#))
            #expect(try await status("\(base)/lost/log").0 == 502)
            #expect(try await status("/api/v1/pods/web/log").0 == 404)
            #expect(try await server.request("DELETE", "\(base)/web/log").status == 405)
            // Plain HTTP exec without an upgrade: the request is checked, then told what it needs.
            let exec = try await status("\(base)/web/exec?command=ls&stdout=true")
            #expect(exec.0 == 400 && exec.1.hasPrefix("exec needs a WebSocket upgrade"))
            #expect(try await status("\(base)/web/exec?stdout=true") == (400, "you must specify at least one command for the container"))
        }
        // The options reached the node as given, with the container resolved.
        #expect(Self.fake.logCalls.contains { $0.container == "a" && $0.previous })
    }

    @Test func withoutANodeAgentSaysSo() async throws {
        try await withPods(nil) { server in
            let response = try await server.request("GET", "/api/v1/namespaces/default/pods/web/log")
            #expect(response.status == 400)
            #expect(response.json?["message"] == #"logs of pod "web" are not available: no node agent is running this pod"#)
            // The pod and container are still checked first.
            let wrong = try await server.request("GET", "/api/v1/namespaces/default/pods/web/log?container=x")
            #expect(wrong.json?["message"] == "container x is not valid for pod web")
        }
    }

    /// curl's view of a request: the status line and headers (`-i`), with the body (bytes as Latin-1); bounded, generous for a loaded machine.
    private func curl(_ port: Int, _ path: String, method: String = "GET", headers: [String]) async throws -> String {
        let directory = try TemporaryDirectory(prefix: "capstan-curl")
        defer { directory.remove() }
        let output = directory.appending("response")
        let arguments =
            ["-s", "-i", "--max-time", "20", "-o", output, "-X", method] + headers.flatMap { ["-H", $0] } + ["http://127.0.0.1:\(port)\(path)"]
        _ = try await runCommand("/usr/bin/curl", arguments)
        let bytes = FileManager.default.contents(atPath: output) ?? Data()
        return String(decoding: bytes.map { $0 < 0x80 ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }

    @Test func otherUpgradesAreIgnoredAndSPDYIsToldWhatToUse() async throws {
        try await withPods { server in
            let h2c = try await curl(
                server.port, "/version", headers: ["Connection: Upgrade, HTTP2-Settings", "Upgrade: h2c", "HTTP2-Settings: AAMAAABkAAQAAP__"])
            #expect(h2c.hasPrefix("HTTP/1.1 200"), "\(h2c)")
            let spdy = try await curl(
                server.port, "/api/v1/namespaces/default/pods/web/exec?command=ls&stdout=true", method: "POST",
                headers: ["Connection: Upgrade", "Upgrade: SPDY/3.1", "X-Stream-Protocol-Version: v4.channel.k8s.io"])
            #expect(spdy.hasPrefix("HTTP/1.1 400"), "\(spdy)")
            #expect(spdy.contains("not SPDY"), "\(spdy)")
        }
    }

    @Test func webSocketUpgradesAreCheckedBeforeTheyAreAccepted() async throws {
        try await withPods { server in
            let webSocket = ["Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="]
            let exec = "/api/v1/namespaces/default/pods/web/exec?command=echo&command=hi&stdout=true"
            let accepted = try await curl(server.port, exec, headers: webSocket + ["Sec-WebSocket-Protocol: v5.channel.k8s.io"])
            #expect(accepted.hasPrefix("HTTP/1.1 101"), "\(accepted)")
            #expect(accepted.lowercased().contains("sec-websocket-protocol: v5.channel.k8s.io"), "\(accepted)")
            #expect(accepted.contains("\u{1}hi\n") && accepted.contains(#"\#u{3}{"metadata":{},"status":"Success"}"#), "\(accepted)")
            // No subprotocol Capstan speaks, a bad container, or no command: the upgrade is refused.
            for (path, offered) in [
                (exec, "base64.channel.k8s.io"),
                ("/api/v1/namespaces/default/pods/web/exec?command=echo&stdout=true&container=nope", "v5.channel.k8s.io"),
                ("/api/v1/namespaces/default/pods/web/exec?stdout=true", "v4.channel.k8s.io"),
                ("/api/v1/namespaces/default/pods/web/log", "v5.channel.k8s.io"),
            ] {
                let refused = try await curl(server.port, path, headers: webSocket + ["Sec-WebSocket-Protocol: \(offered)"])
                #expect(refused.hasPrefix("HTTP/1.1 400"), "\(path) \(offered): \(refused)")
            }
        }
    }

    @Test func anExecWhoseClientLeavesIsCancelled() async throws {
        let fake = FakePodStreaming()
        try await withPods(fake) { server in
            let webSocket = [
                "Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                "Sec-WebSocket-Protocol: v5.channel.k8s.io",
            ]
            // curl gives up after 2 s; the command would take 60.
            let answer = try await curl(
                server.port, "/api/v1/namespaces/default/pods/web/exec?command=sleep&command=60&stdout=true", headers: webSocket)
            #expect(answer.hasPrefix("HTTP/1.1 101"), "\(answer)")
            let deadline = ContinuousClock.now + .seconds(20)
            while fake.cancelledExecs == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            #expect(fake.cancelledExecs == 1)
        }
    }
}
