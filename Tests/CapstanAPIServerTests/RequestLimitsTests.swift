import CapstanCore
import Foundation
import Testing

@testable import CapstanAPIServer

/// Hostile and careless clients get precise Status errors, and bounded costs.
@Suite struct RequestLimitsTests {
    private let configMaps = "/api/v1/namespaces/default/configmaps"

    @Test func oversizedBodiesAre413() async throws {
        try await InProcessServer.with { server in
            let big =
                Array(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"a":""#.utf8)
                + Array(repeating: UInt8(ascii: "x"), count: 4 << 20) + Array(#""}}"#.utf8)
            let response = try await server.connect().request("POST", configMaps, body: big, contentType: "application/json")
            #expect(response.status == 413)
            #expect(response.json?["reason"] == "RequestEntityTooLarge")
            #expect(response.json?["message"]?.stringValue?.contains("3145728-byte limit") == true, "\(response.text)")
            // The server is fine afterwards.
            #expect(try await server.request("GET", configMaps).status == 200)
        }
    }

    @Test func malformedBodiesAre400WithWhereTheyBroke() async throws {
        try await InProcessServer.with { server in
            let json = try await server.connect().request(
                "POST", configMaps, body: Array(#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x",}}"#.utf8),
                contentType: "application/json")
            #expect(json.status == 400 && json.json?["reason"] == "BadRequest")
            #expect(json.json?["message"]?.stringValue?.hasPrefix("the request body is not valid JSON") == true, "\(json.text)")
            let notObject = try await server.connect().request("POST", configMaps, body: Array("[1, 2]".utf8), contentType: "application/json")
            #expect(notObject.status == 400, "\(notObject.text)")
            let yaml = try await server.connect().request(
                "PATCH", configMaps + "/x?fieldManager=test", body: Array("metadata: {name: x\n  data: [".utf8),
                contentType: "application/apply-patch+yaml")
            #expect(yaml.status == 400 && yaml.json?["message"]?.stringValue?.hasPrefix("error decoding YAML") == true, "\(yaml.text)")
            let patchType = try await server.connect().request("PATCH", configMaps + "/x", body: Array("{}".utf8), contentType: "text/plain")
            #expect(patchType.status == 415 && patchType.json?["reason"] == "UnsupportedMediaType", "\(patchType.text)")
        }
    }

    @Test func unknownKindsAndMismatchedTypesAreRefused() async throws {
        try await InProcessServer.with { server in
            let unknown = try await server.request("GET", "/apis/example.com/v1/widgets")
            #expect(unknown.status == 404 && unknown.json?["reason"] == "NotFound", "\(unknown.text)")
            var wrongKind = Objects.configMap("x")
            wrongKind["kind"] = "Secret"
            let kind = try await server.request("POST", configMaps, json: wrongKind)
            #expect(
                kind.status == 400 && kind.json?["message"]?.stringValue?.contains("the kind Secret in the request body does not match") == true,
                "\(kind.text)")
            var wrongVersion = Objects.configMap("x")
            wrongVersion["apiVersion"] = "apps/v1"
            let version = try await server.request("POST", configMaps, json: wrongVersion)
            #expect(
                version.status == 400
                    && version.json?["message"]?.stringValue?.contains("the apiVersion apps/v1 in the request body does not match v1") == true,
                "\(version.text)")
            let namespace = try await server.request("POST", "/api/v1/namespaces/nowhere/configmaps", json: Objects.configMap("x"))
            #expect(namespace.status == 404 && namespace.json?["message"] == #"namespaces "nowhere" not found"#, "\(namespace.text)")
            let method = try await server.request("PUT", configMaps)
            #expect(method.status == 405, "\(method.text)")
        }
    }

    @Test func oversizedLabelsAndAnnotationsAre422() async throws {
        try await InProcessServer.with { server in
            let label = try await server.request(
                "POST", configMaps, json: Objects.configMap("x", labels: ["app": .string(String(repeating: "a", count: 64))]))
            #expect(label.status == 422 && label.json?["reason"] == "Invalid", "\(label.text)")
            #expect(label.json?[path: ["details", "causes"]]?[0]?["field"] == "metadata.labels", "\(label.text)")
            var annotated = Objects.configMap("y")
            annotated[path: ["metadata", "annotations"]] = ["big": .string(String(repeating: "a", count: 300 * 1024))]
            let annotations = try await server.request("POST", configMaps, json: annotated)
            #expect(
                annotations.status == 422 && annotations.json?[path: ["details", "causes"]]?[0]?["field"] == "metadata.annotations",
                "\(annotations.text)")
            #expect(try await server.request("GET", configMaps).json?["items"] == .array([]))
        }
    }

    @Test func largeListPagesAreCapped() async throws {
        try await InProcessServer.with(configure: { $0.limits.maxListLimit = 3 }) { server in
            for index in 0..<5 { _ = try await server.request("POST", configMaps, json: Objects.configMap("cm-\(index)")) }
            let first = try await server.request("GET", configMaps + "?limit=1000")
            #expect(first.json?["items"]?.arrayValue?.count == 3)
            let token = try #require(first.json?[path: ["metadata", "continue"]]?.stringValue)
            let rest = try await server.request("GET", configMaps + "?limit=1000&continue=\(token)")
            #expect(rest.json?["items"]?.arrayValue?.count == 2)
            #expect(rest.json?[path: ["metadata", "continue"]] == nil)
            // Unlimited lists stay unlimited, as in Kubernetes.
            #expect(try await server.request("GET", configMaps).json?["items"]?.arrayValue?.count == 5)
        }
    }

    @Test func watchesPerClientAreLimitedWith429() async throws {
        try await InProcessServer.with(configure: { $0.limits.maxWatchesPerClient = 2 }) { server in
            var open: [TestHTTPConnection] = []
            for _ in 0..<2 {
                let watch = try server.connect()
                try await watch.send("GET", configMaps + "?watch=true")
                #expect(try await watch.readHead(deadline: .now + .seconds(30)).0 == 200)
                open.append(watch)
            }
            let refused = try await server.request("GET", configMaps + "?watch=1")
            #expect(refused.status == 429 && refused.json?["reason"] == "TooManyRequests", "\(refused.text)")
            #expect(refused.headers["retry-after"] == "1")
            #expect(try await server.request("GET", configMaps).status == 200, "only watches are limited")
            // A closed watch frees its slot.
            open.removeLast()
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(30)
            var status = 429
            while status == 429, clock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                let again = try server.connect()
                try await again.send("GET", configMaps + "?watch=true")
                status = try await again.readHead(deadline: .now + .seconds(30)).0
                if status == 200 { open.append(again) }
            }
            #expect(status == 200)
            #expect(try await server.scrape()["capstan_apiserver_rejected_watches_total"] ?? 0 >= 1)
        }
    }

    @Test func watchWhoseClientStopsReadingIsClosed() async throws {
        try await InProcessServer.with(configure: { $0.limits.watchBacklogBytes = 256 << 10 }) { server in
            let slow = try server.connect(receiveBuffer: 4096)
            try await slow.send("GET", configMaps + "?watch=true")
            #expect(try await slow.readHead(deadline: .now + .seconds(30)).0 == 200)
            // ~6 MiB of events: far more than the socket buffers plus the 256 KiB backlog.
            let value = JSONValue.string(String(repeating: "v", count: 200 << 10))
            let writer = try server.connect()
            let terminated = #"apiserver_terminated_watchers_total{group="",resource="configmaps"}"#
            var closed = false
            for index in 0..<30 where !closed {
                #expect(try await writer.request("POST", configMaps, json: Objects.configMap("cm-\(index)", data: ["v": value])).status == 201)
                closed = try await server.scrape()[terminated] == 1
            }
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(30)
            while !closed, clock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                closed = try await server.scrape()[terminated] == 1
            }
            #expect(closed, "the slow watch was not closed")
            // A reader that keeps up is unaffected.
            let now = try #require(
                try await writer.request("GET", configMaps + "?limit=1").json?[path: ["metadata", "resourceVersion"]]?.stringValue)
            let fast = try server.connect()
            try await fast.send("GET", configMaps + "?watch=true&resourceVersion=\(now)")
            _ = try await fast.readHead(deadline: .now + .seconds(30))
            #expect(try await writer.request("POST", configMaps, json: Objects.configMap("small")).status == 201)
            #expect(try await fast.readEvents(1).first?[path: ["object", "metadata", "name"]] == "small")
        }
    }
}
