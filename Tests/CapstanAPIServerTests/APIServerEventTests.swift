import CapstanAPI
import CapstanClient
import CapstanCore
import CapstanStore
import Foundation
import Testing

@testable import CapstanAPIServer

/// The API server's own Events (through the shared `EventRecorder` over its registry).
@Suite struct APIServerEventTests {
    private let writer = WriteOptions(fieldManager: "test")

    @Test func eventsAreWrittenWithAnExpiringLease() async throws {
        try await InProcessServer.with(configure: { $0.eventTTLSeconds = 600 }) { server in
            let pod = try await server.registry.create(BuiltinKinds.pod, namespace: "default", object: Objects.pod("p"), options: writer)
            let event = try #require(await server.server.events.record(pod, reason: "Pulled", message: "image pulled", component: "kubelet"))
            let name = try #require(event[path: ["metadata", "name"]]?.stringValue)
            let stored = try await server.store.range(RangeRequest(.single(Data("/registry/core/events/default/\(name)".utf8))))
            let lease = try #require(stored.kvs.first?.lease)
            #expect(lease != 0)
            let info = try await server.store.leaseInfo(lease, includeKeys: false)
            #expect(info.grantedTTL == 660, "the TTL plus the one-minute reuse window")
            // Other kinds never get one.
            let podKey = try await server.store.range(RangeRequest(.single(Data("/registry/core/pods/default/p".utf8))))
            #expect(podKey.kvs.first?.lease == 0)
        }
    }

    @Test func scaleAndBindingRecordEventsThatDescribeFinds() async throws {
        try await InProcessServer.with { server in
            #expect(try await server.request("POST", "/apis/apps/v1/namespaces/default/deployments", json: Objects.deployment("web")).status == 201)
            let scaled = try await server.connect().request(
                "PATCH", "/apis/apps/v1/namespaces/default/deployments/web/scale", body: Array(#"{"spec":{"replicas":3}}"#.utf8),
                contentType: "application/merge-patch+json")
            #expect(scaled.status == 200, "\(scaled.text)")
            #expect(try await server.request("POST", "/api/v1/namespaces/default/pods", json: Objects.pod("p")).status == 201)
            let binding: JSONValue = [
                "apiVersion": "v1", "kind": "Binding", "metadata": ["name": "p"], "target": ["kind": "Node", "name": "node-1"],
            ]
            #expect(try await server.request("POST", "/api/v1/namespaces/default/pods/p/binding", json: binding).status == 201)

            let selector = "involvedObject.name%3Dweb,involvedObject.namespace%3Ddefault,involvedObject.kind%3DDeployment"
            let events = try await server.request("GET", "/api/v1/namespaces/default/events?fieldSelector=\(selector)")
            let items = try #require(events.json?["items"]?.arrayValue)
            #expect(items.count == 1, "\(events.text)")
            #expect(items.first?["reason"] == "Scaled")
            #expect(items.first?["message"] == "Scaled deployment web from 1 to 3 replicas")
            let scheduled = try await server.request("GET", "/api/v1/namespaces/default/events?fieldSelector=reason%3DScheduled")
            #expect(scheduled.json?["items"]?[0]?["message"] == "Successfully assigned default/p to node-1", "\(scheduled.text)")
            #expect(scheduled.json?["items"]?[0]?[path: ["involvedObject", "kind"]] == "Pod")
        }
    }
}
