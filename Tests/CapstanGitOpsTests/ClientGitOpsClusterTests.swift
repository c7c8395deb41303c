import CapstanAPI
import CapstanAPIServer
import CapstanClient
import CapstanCore
import CapstanTesting
import Testing

@testable import CapstanGitOps

/// The GitOps cluster adapter over a real in-process `ClusterClient` (the
/// registry on a SQLite store): what the engine sees of applies, reads,
/// deletes, lists and watches.
@Suite struct ClientGitOpsClusterTests {
    static func configMap(_ name: String, value: String, labels: JSONValue = [:]) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name), "namespace": "default", "labels": labels],
            "data": ["value": .string(value)],
        ]
    }

    static func identity(_ name: String) -> ObjectIdentity { ObjectIdentity(group: "", kind: "ConfigMap", namespace: "default", name: name) }

    @Test func applyCreatesThenUpdatesAsTheGitOpsFieldManager() async throws {
        try await withInProcessRegistry(prefix: "capstan-gitops-cluster") { registry, _ in
            let cluster = ClientGitOpsCluster(client: InProcessClient(registry: registry))
            let dryRun = try await cluster.apply(Self.configMap("settings", value: "a"), dryRun: true)
            #expect(!dryRun.created && dryRun.object["data"]?["value"] == "a")
            #expect(try await cluster.get(Self.identity("settings"), apiVersion: "v1") == nil, "a dry run stores nothing")

            let first = try await cluster.apply(Self.configMap("settings", value: "a"), dryRun: false)
            #expect(first.created)
            let second = try await cluster.apply(Self.configMap("settings", value: "b"), dryRun: false)
            #expect(!second.created && second.object["data"]?["value"] == "b")
            let managers = second.object[path: ["metadata", "managedFields"]]?.arrayValue?.compactMap { $0["manager"]?.stringValue }
            #expect(managers == ["capstan-gitops"])
        }
    }

    @Test func aMissingObjectReadsAsNilAndDeletesQuietly() async throws {
        try await withInProcessRegistry(prefix: "capstan-gitops-cluster") { registry, _ in
            let cluster = ClientGitOpsCluster(client: InProcessClient(registry: registry))
            #expect(try await cluster.get(Self.identity("absent"), apiVersion: "v1") == nil)
            try await cluster.delete(Self.identity("absent"), apiVersion: "v1")
            _ = try await cluster.apply(Self.configMap("present", value: "a"), dryRun: false)
            try await cluster.delete(Self.identity("present"), apiVersion: "v1")
            #expect(try await cluster.get(Self.identity("present"), apiVersion: "v1") == nil)
        }
    }

    @Test func anUnknownKindOrABadSelectorIsTheAPIsError() async throws {
        try await withInProcessRegistry(prefix: "capstan-gitops-cluster") { registry, _ in
            let cluster = ClientGitOpsCluster(client: InProcessClient(registry: registry))
            let unknown = ObjectIdentity(group: "example.com", kind: "Widget", namespace: "default", name: "w")
            await #expect(throws: APIError.self) { try await cluster.get(unknown, apiVersion: "example.com/v1") }
            do {
                _ = try await cluster.list(apiVersion: "v1", kind: "ConfigMap", labelSelector: "a in (")
                Issue.record("a broken selector was accepted")
            } catch {
                #expect((error as? APIError)?.code == 400)
            }
        }
    }

    @Test func listFiltersByLabelInEveryNamespace() async throws {
        try await withInProcessRegistry(prefix: "capstan-gitops-cluster") { registry, _ in
            let cluster = ClientGitOpsCluster(client: InProcessClient(registry: registry))
            _ = try await cluster.apply(Self.configMap("marked", value: "a", labels: ["capstan.io/gitops-record": "sync"]), dryRun: false)
            _ = try await cluster.apply(Self.configMap("plain", value: "a"), dryRun: false)
            let names = try await cluster.list(apiVersion: "v1", kind: "ConfigMap", labelSelector: "capstan.io/gitops-record=sync")
                .compactMap { $0[path: ["metadata", "name"]]?.stringValue }
            #expect(names == ["marked"])
        }
    }

    @Test func aWatchStartsWithTheObjectsAsTheyAre() async throws {
        try await withInProcessRegistry(prefix: "capstan-gitops-cluster") { registry, _ in
            let cluster = ClientGitOpsCluster(client: InProcessClient(registry: registry))
            _ = try await cluster.apply(Self.configMap("before", value: "a"), dryRun: false)
            var events = cluster.watch(BuiltinKinds.configMap).makeAsyncIterator()
            let first = try #require(try await events.next())
            #expect(first.type == .added && ObjectIdentity(BuiltinKinds.configMap, event: first) == Self.identity("before"))
            _ = try await cluster.apply(Self.configMap("after", value: "a"), dryRun: false)
            var next = try #require(try await events.next())
            while next.type == .bookmark { next = try #require(try await events.next()) }
            #expect(next.type == .added && ObjectIdentity(BuiltinKinds.configMap, event: next) == Self.identity("after"))
        }
    }
}

/// A cluster whose watch holds a fixed list of events and then ends.
struct ScriptedWatchCluster: GitOpsCluster {
    let events: [WatchEvent]

    func apply(_ object: JSONValue, dryRun: Bool) async throws(APIError) -> AppliedObject { AppliedObject(object: object, created: false) }
    func get(_ identity: ObjectIdentity, apiVersion: String) async throws(APIError) -> JSONValue? { nil }
    func delete(_ identity: ObjectIdentity, apiVersion: String) async throws(APIError) {}
    func list(apiVersion: String, kind: String, labelSelector: String?) async throws(APIError) -> [JSONValue] { [] }
    func watch(_ kind: KindInfo) -> WatchEvents {
        let (stream, continuation) = WatchEvents.makeStream()
        for event in events { continuation.yield(event) }
        continuation.finish()
        return stream
    }
}

@Suite struct DriftWatchTests {
    /// The old adapter copied watch events into a stream holding the newest
    /// 10,000, so a burst larger than that (a namespace of many objects
    /// listed as the watch starts) lost the oldest while the loop was busy.
    /// Now each event goes straight into the loop's set of changed objects.
    @Test func everyObjectOfAWatchBurstReachesTheLoop() async {
        let count = 10_001
        let events = (0..<count).map { index in
            WatchEvent(type: .added, object: ["metadata": ["name": .string("cm-\(index)"), "namespace": "default"]])
        }
        let inbox = GitOpsService.Inbox()
        await GitOpsService.follow(BuiltinKinds.configMap, cluster: ScriptedWatchCluster(events: events), into: inbox)
        let changed = inbox.take().changed
        #expect(changed.count == count)
        #expect(changed.contains(ClientGitOpsClusterTests.identity("cm-0")) && changed.contains(ClientGitOpsClusterTests.identity("cm-10000")))
    }

    @Test func bookmarksAndErrorsAreNotChanges() async {
        let events = [
            WatchEvent(type: .bookmark, object: ["metadata": ["resourceVersion": "5"]]),
            WatchEvent(type: .modified, object: ["metadata": ["name": "settings", "namespace": "default"]]),
            WatchEvent(type: .error, object: ["code": 410]),
        ]
        let inbox = GitOpsService.Inbox()
        await GitOpsService.follow(BuiltinKinds.configMap, cluster: ScriptedWatchCluster(events: events), into: inbox)
        #expect(inbox.take().changed == [ClientGitOpsClusterTests.identity("settings")])
    }
}
