import CapstanAPI
import CapstanAPIServer
import CapstanClient
import CapstanCore
import CapstanStore
import CapstanTestSupport
import CapstanTesting
import Logging
import OrderedCollections
import Testing

@testable import CapstanAPIServer
@testable import CapstanScheduler

/// The Scheduler service against a real registry on SQLite: pods are bound
/// through `pods/binding`, an impossible pod gets its FailedScheduling event
/// and condition, and is bound once a node that fits appears.
@Suite struct SchedulerServiceTests {
    static let writer = WriteOptions(fieldManager: "test")

    static func node(_ name: String, cpu: String, ready: Bool = true) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Node",
            "metadata": ["name": .string(name), "labels": ["kubernetes.io/hostname": .string(name)]],
            "status": [
                "capacity": ["cpu": .string(cpu), "memory": "4Gi", "pods": "110"],
                "allocatable": ["cpu": .string(cpu), "memory": "4Gi", "pods": "110"],
                "conditions": [["type": "Ready", "status": ready ? "True" : "False"]],
            ],
        ]
    }

    static func pod(_ name: String, cpu: String, schedulerName: String? = nil) -> JSONValue {
        var spec: JSONObject = ["containers": [["name": "app", "image": "busybox", "resources": ["requests": ["cpu": .string(cpu)]]]]]
        if let schedulerName { spec["schedulerName"] = .string(schedulerName) }
        return ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name)], "spec": .object(spec)]
    }

    @Test func bindsPodsAndRetriesAnUnschedulableOneWhenANodeArrives() async throws {
        try await withInProcessRegistry(prefix: "capstan-scheduler") { registry, _ in
            let client = InProcessClient(registry: registry)
            for name in ["n1", "n2", "n3"] {
                _ = try await client.create(BuiltinKinds.node, namespace: nil, object: Self.node(name, cpu: "2"), options: Self.writer)
            }
            _ = try await client.create(BuiltinKinds.node, namespace: nil, object: Self.node("down", cpu: "64", ready: false), options: Self.writer)
            let scheduler = Scheduler(client: client, configuration: SchedulerConfiguration(), logger: Logger(label: "test"))

            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await scheduler.run() }
                for index in 0..<6 {
                    _ = try await client.create(
                        BuiltinKinds.pod, namespace: "default", object: Self.pod("web-\(index)", cpu: "900m"), options: Self.writer)
                }
                _ = try await client.create(
                    BuiltinKinds.pod, namespace: "default", object: Self.pod("other", cpu: "1", schedulerName: "someone-else"), options: Self.writer)
                _ = try await client.create(BuiltinKinds.pod, namespace: "default", object: Self.pod("big", cpu: "3"), options: Self.writer)

                // Six pods of 900m on three 2-CPU nodes: two each, none on the node that is not ready.
                #expect(await eventually { await Self.placements(client).filter { $0.key.hasPrefix("web-") }.count == 6 })
                let placements = await Self.placements(client)
                let perNode = Dictionary(grouping: placements.filter { $0.key.hasPrefix("web-") }.values, by: { $0 }).mapValues(\.count)
                #expect(perNode == ["n1": 2, "n2": 2, "n3": 2])
                #expect(placements["other"] == nil)

                // The impossible pod: an event in Kubernetes' words and the condition.
                let expected = "0/4 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 3 Insufficient cpu."
                #expect(await eventually { await Self.events(client, reason: "FailedScheduling", pod: "big").contains(expected) })
                #expect(
                    await eventually {
                        let big = try? await client.get(Pod.self, namespace: "default", name: "big")
                        let condition = big?.status.conditions.first { $0.type == "PodScheduled" }
                        return condition?.status == "False" && condition?.reason == "Unschedulable" && condition?.message == expected
                    })
                #expect(await Self.events(client, reason: "Scheduled", pod: "web-0").count == 1)

                // A node with room arrives: the waiting pod is retried at once and bound there.
                _ = try await client.create(BuiltinKinds.node, namespace: nil, object: Self.node("n4", cpu: "4"), options: Self.writer)
                #expect(await eventually { await Self.placements(client)["big"] == "n4" })
                group.cancelAll()
            }
        }
    }

    @Test func periodicFlushRetriesWaitingPodsAndEventsAggregate() async throws {
        try await withInProcessRegistry(prefix: "capstan-scheduler") { registry, _ in
            let client = InProcessClient(registry: registry)
            _ = try await client.create(BuiltinKinds.node, namespace: nil, object: Self.node("n1", cpu: "1"), options: Self.writer)
            // kube-scheduler's timing (a flush every 60 s retries pods that waited 300 s), on a manual clock.
            let clock = ManualClock()
            var configuration = SchedulerConfiguration()
            configuration.clock = clock
            configuration.wallClock = clock
            let scheduler = Scheduler(client: client, configuration: configuration, logger: Logger(label: "test"))
            func failedScheduling() async -> (events: Int, count: Int64) {
                let events = await Self.eventObjects(client, reason: "FailedScheduling", pod: "huge")
                return (events.count, events.first?["count"]?.intValue ?? 0)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await scheduler.run() }
                _ = try await client.create(BuiltinKinds.pod, namespace: "default", object: Self.pod("huge", cpu: "8"), options: Self.writer)
                #expect(await eventually { await failedScheduling() == (1, 1) })
                // No cluster event helps, but the flush retries it once it has waited
                // long enough; the same failure bumps one event's count.
                clock.advance(by: .seconds(300))
                #expect(await eventually { await failedScheduling() == (1, 2) })
                group.cancelAll()
            }
        }
    }

    @Test func theFlushTakesOnlyPodsThatWaitedLongEnoughOnTheClock() async {
        let clock = ManualClock()
        var configuration = SchedulerConfiguration()
        configuration.clock = clock
        let cache = SchedulerCache(configuration: configuration)
        let early = ObjectKey(namespace: "default", name: "early")
        let late = ObjectKey(namespace: "default", name: "late")
        await cache.markUnschedulable(early)
        clock.advance(by: .seconds(100))
        await cache.markUnschedulable(late)
        clock.advance(by: .seconds(199))
        #expect(await cache.takeUnschedulable(olderThan: .seconds(300)) == [])
        clock.advance(by: .seconds(1))
        #expect(await cache.takeUnschedulable(olderThan: .seconds(300)) == [early])
        clock.advance(by: .seconds(100))
        #expect(await cache.takeUnschedulable(olderThan: .seconds(300)) == [late])
        #expect(await cache.unschedulableCount == 0)
    }

    static func eventObjects(_ client: InProcessClient, reason: String, pod: String) async -> [JSONValue] {
        guard let list = try? await client.list(BuiltinKinds.event, namespace: "default", options: ListOptions()) else { return [] }
        return list.items.filter { $0["reason"]?.stringValue == reason && $0[path: ["involvedObject", "name"]]?.stringValue == pod }
    }

    static func placements(_ client: InProcessClient) async -> [String: String] {
        guard let list = try? await client.list(BuiltinKinds.pod, namespace: "default", options: ListOptions()) else { return [:] }
        var result: [String: String] = [:]
        for item in list.items {
            guard let pod = Unstructured(jsonValue: item).flatMap(Pod.init), let node = pod.spec.nodeName, !node.isEmpty else { continue }
            result[pod.metadata.name] = node
        }
        return result
    }

    static func events(_ client: InProcessClient, reason: String, pod: String) async -> [String] {
        guard let list = try? await client.list(BuiltinKinds.event, namespace: "default", options: ListOptions()) else { return [] }
        return list.items.compactMap { item in
            guard item["reason"]?.stringValue == reason, item[path: ["involvedObject", "name"]]?.stringValue == pod else { return nil }
            return item["message"]?.stringValue
        }
    }
}
