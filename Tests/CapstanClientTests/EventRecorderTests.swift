import CapstanAPI
import CapstanAPIServer
import CapstanClient
import CapstanCore
import Foundation
import Logging
import Synchronization
import Testing

/// The one event recorder: Kubernetes' Event fields, aggregation of repeats
/// as client-go's EventCorrelator does, and never failing its caller.
@Suite struct EventRecorderTests {
    static let deployment: JSONValue = [
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web"],
        "spec": [
            "replicas": 1, "selector": ["matchLabels": ["app": "web"]],
            "template": ["metadata": ["labels": ["app": "web"]], "spec": ["containers": [["name": "web", "image": "nginx"]]]],
        ],
    ]

    @Test func repeatsBumpCountAndLastTimestampOfOneEvent() async throws {
        try await withRegistry { registry in
            let client = InProcessClient(registry: registry)
            let deployment = try await client.create(BuiltinKinds.deployment, namespace: "default", object: Self.deployment, options: writer)
            let clock = Mutex(Date(timeIntervalSince1970: 1_700_000_000))
            let recorder = EventRecorder(
                client: client, component: "deployment-controller", logger: Logger(label: "test"), now: { clock.withLock { $0 } })
            let first = try #require(await recorder.record(deployment, reason: "ScalingReplicaSet", message: "Scaled up replica set web-1 to 1"))
            #expect(first["count"] == 1)
            #expect(first["firstTimestamp"] == "2023-11-14T22:13:20Z")
            #expect(first["lastTimestamp"] == first["firstTimestamp"])
            #expect(first[path: ["involvedObject", "kind"]] == "Deployment")
            #expect(first[path: ["involvedObject", "apiVersion"]] == "apps/v1")
            #expect(first[path: ["involvedObject", "uid"]] == deployment[path: ["metadata", "uid"]])
            #expect(first[path: ["metadata", "name"]]?.stringValue?.hasPrefix("web.") == true)

            clock.withLock { $0 += 30 }
            let again = try #require(await recorder.record(deployment, reason: "ScalingReplicaSet", message: "Scaled up replica set web-1 to 1"))
            #expect(again[path: ["metadata", "name"]] == first[path: ["metadata", "name"]])
            #expect(again["count"] == 2)
            #expect(again["firstTimestamp"] == "2023-11-14T22:13:20Z")
            #expect(again["lastTimestamp"] == "2023-11-14T22:13:50Z")

            // Another message is another Event.
            let other = try #require(await recorder.record(deployment, reason: "ScalingReplicaSet", message: "Scaled up replica set web-1 to 2"))
            #expect(other[path: ["metadata", "name"]] != first[path: ["metadata", "name"]])
            #expect(other["count"] == 1)

            // Repeats recorded at the same time are all counted, on the one Event.
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        await recorder.record(deployment, reason: "ScalingReplicaSet", message: "Scaled up replica set web-1 to 1")
                    }
                }
            }
            var options = ListOptions()
            options.fieldSelector = try FieldSelector(parsing: "involvedObject.name=web,reason=ScalingReplicaSet")
            let counts = try await client.list(BuiltinKinds.event, namespace: "default", options: options).items.compactMap { $0["count"]?.intValue }
            #expect(counts.sorted() == [1, 12])
        }
    }

    @Test func normalAndWarningEventsCarryTheirTypeAndSource() async throws {
        try await withRegistry { registry in
            let client = InProcessClient(registry: registry)
            let deployment = try await client.create(BuiltinKinds.deployment, namespace: "default", object: Self.deployment, options: writer)
            let recorder = EventRecorder(client: client, component: "kubelet", host: "node-1", logger: Logger(label: "test"))
            let normal = try #require(await recorder.record(deployment, reason: "Pulled", message: "pulled", fieldPath: "spec.containers{web}"))
            let warning = try #require(await recorder.record(deployment, type: .warning, reason: "Pulled", message: "pulled"))
            #expect(normal["type"] == "Normal")
            #expect(warning["type"] == "Warning")
            #expect(warning[path: ["metadata", "name"]] != normal[path: ["metadata", "name"]], "the type is part of what makes a repeat")
            #expect(normal[path: ["involvedObject", "fieldPath"]] == "spec.containers{web}")
            #expect(normal[path: ["source", "component"]] == "kubelet")
            #expect(normal[path: ["source", "host"]] == "node-1")
            #expect(normal["reportingComponent"] == "kubelet")
            #expect(normal["reportingInstance"] == "node-1")
            // One recorder may write for several components (the API server does, per request).
            let scaled = try #require(await recorder.record(deployment, reason: "Scaled", message: "scaled", component: "kubectl"))
            #expect(scaled[path: ["source", "component"]] == "kubectl")
        }
    }

    @Test func aFailingClientNeverThrowsToTheCallerAndRecoversAfterwards() async throws {
        try await withRegistry { registry in
            let client = FlakyClient(inner: InProcessClient(registry: registry))
            let deployment = try await client.create(BuiltinKinds.deployment, namespace: "default", object: Self.deployment, options: writer)
            let recorder = EventRecorder(client: client, component: "test", logger: Logger(label: "test"))

            client.failWrites(with: APIError.internalError("etcd is down"))
            // `record` cannot throw; a failed write is logged and answered with nil.
            #expect(await recorder.record(deployment, reason: "Synced", message: "applied") == nil)
            client.failWrites(with: nil)
            let written = try #require(await recorder.record(deployment, reason: "Synced", message: "applied"))
            #expect(written["count"] == 1, "a failed write is not remembered as a written Event")

            // A failed count bump does not write a second Event for the repeat.
            client.failWrites(with: APIError.internalError("etcd is down"))
            #expect(await recorder.record(deployment, reason: "Synced", message: "applied") == nil)
            client.failWrites(with: nil)
            let bumped = try #require(await recorder.record(deployment, reason: "Synced", message: "applied"))
            #expect(bumped[path: ["metadata", "name"]] == written[path: ["metadata", "name"]])

            // An Event that expired or was deleted is written anew.
            let name = try #require(written[path: ["metadata", "name"]]?.stringValue)
            _ = try await client.delete(BuiltinKinds.event, namespace: "default", name: name, options: DeleteOptions())
            let fresh = try #require(await recorder.record(deployment, reason: "Synced", message: "applied"))
            #expect(fresh[path: ["metadata", "name"]] != written[path: ["metadata", "name"]])
            #expect(fresh["count"] == 1)
        }
    }

    @Test func longMessagesAreCutOnACharacterBoundary() async throws {
        try await withRegistry { registry in
            let client = InProcessClient(registry: registry)
            let deployment = try await client.create(BuiltinKinds.deployment, namespace: "default", object: Self.deployment, options: writer)
            let recorder = EventRecorder(client: client, component: "test", logger: Logger(label: "test"))
            let event = try #require(await recorder.record(deployment, reason: "Long", message: String(repeating: "é", count: 1000)))
            let message = try #require(event["message"]?.stringValue)
            #expect(message.utf8.count <= 1024)
            #expect(message.hasSuffix("..."))
            #expect(!message.contains("\u{FFFD}"))
        }
    }
}

/// Forwards to a real client; its writes fail with a chosen error while one is set.
final class FlakyClient: ClusterClient {
    let inner: any ClusterClient
    private let failure = Mutex<APIError?>(nil)

    init(inner: any ClusterClient) { self.inner = inner }

    func failWrites(with error: APIError?) { failure.withLock { $0 = error } }

    private func check() throws {
        if let error = failure.withLock({ $0 }) { throw error }
    }
    func requestToken(serviceAccount name: String, namespace: String, request: JSONValue) async throws -> JSONValue {
        try await inner.requestToken(serviceAccount: name, namespace: namespace, request: request)
    }

    func get(_ kind: KindInfo, namespace: String?, name: String) async throws -> JSONValue {
        try await inner.get(kind, namespace: namespace, name: name)
    }

    func list(_ kind: KindInfo, namespace: String?, options: ListOptions) async throws -> ObjectList {
        try await inner.list(kind, namespace: namespace, options: options)
    }

    func watch(_ kind: KindInfo, namespace: String?, options: ListOptions) -> WatchEvents {
        inner.watch(kind, namespace: namespace, options: options)
    }

    func create(_ kind: KindInfo, namespace: String?, object: JSONValue, options: WriteOptions) async throws -> JSONValue {
        try check()
        return try await inner.create(kind, namespace: namespace, object: object, options: options)
    }

    func update(
        _ kind: KindInfo, namespace: String?, name: String, object: JSONValue, options: WriteOptions, subresource: String?
    ) async throws -> JSONValue {
        try check()
        return try await inner.update(kind, namespace: namespace, name: name, object: object, options: options, subresource: subresource)
    }

    func patch(
        _ kind: KindInfo, namespace: String?, name: String, patch: PatchRequest, options: WriteOptions, subresource: String?
    ) async throws -> JSONValue {
        try check()
        return try await inner.patch(kind, namespace: namespace, name: name, patch: patch, options: options, subresource: subresource)
    }

    func delete(_ kind: KindInfo, namespace: String?, name: String, options: DeleteOptions) async throws -> DeleteOutcome {
        try check()
        return try await inner.delete(kind, namespace: namespace, name: name, options: options)
    }

    func bind(podNamespace: String, name: String, node: String, options: WriteOptions) async throws {
        try check()
        try await inner.bind(podNamespace: podNamespace, name: name, node: node, options: options)
    }
}
