import CapstanAPI
import CapstanAPIServer
import CapstanCore
import CapstanProxy
import CapstanTestSupport
import CapstanTesting
import Logging
import OrderedCollections
import Synchronization
import Testing

/// The proxy's loop against a real registry and a recording packet filter: what it
/// applies, that it never applies the same table twice in a row, that a refused
/// transaction is tried again, and that a table someone removed is put back.
struct ServiceProxyTests {
    @Test func changesAreAppliedOnceEachFailuresRetriedAndARemovedTablePutBack() async throws {
        try await withInProcessRegistry(prefix: "proxy-loop") { registry, _ in
            let client = InProcessClient(registry: registry)
            let filter = RecordingFilter(failures: 1)
            var configuration = ServiceProxy.Configuration(nodeName: "n1", serviceRange: IPv4Network("10.96.0.0/16")!)
            configuration.checkInterval = .milliseconds(200)
            let proxy = ServiceProxy(configuration: configuration, client: client, filter: filter, logger: Logger(label: "test"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await proxy.run() }
                func create(_ name: String) async throws -> String {
                    let service: JSONValue = [
                        "apiVersion": "v1", "kind": "Service", "metadata": ["name": .string(name)],
                        "spec": ["selector": ["app": .string(name)], "ports": [["port": 80]]],
                    ]
                    let created = try await client.create(
                        BuiltinKinds.service, namespace: "default", object: service, options: WriteOptions(fieldManager: "t"))
                    return created[path: ["spec", "clusterIP"]]?.stringValue ?? ""
                }
                let first = try await create("first")
                try await eventually("the first Service's rule, after the refused attempt") {
                    filter.applied.last?.contains("\(first) . tcp . 80") == true
                }
                #expect(filter.attempts > filter.applied.count)

                // A change that leaves the table as it was writes nothing; the next one does.
                var labelled = try await client.get(BuiltinKinds.service, namespace: "default", name: "first")
                labelled[path: ["metadata", "labels"]] = ["tier": "front"]
                _ = try await client.update(
                    BuiltinKinds.service, namespace: "default", name: "first", object: labelled, options: WriteOptions(fieldManager: "t"))
                let second = try await create("second")
                try await eventually("the second Service's rule") { filter.applied.last?.contains("\(second) . tcp . 80") == true }
                let applied = filter.applied
                #expect(zip(applied, applied.dropFirst()).allSatisfy { $0 != $1 })

                // Someone flushed the ruleset: the next check puts the same table back.
                filter.removeTable()
                try await eventually("the table put back") { filter.applied.count > applied.count }
                #expect(filter.applied.last == applied.last)
                group.cancelAll()
            }
        }
    }
}

/// A packet filter that records every script it is given, refuses the first `failures`, and
/// can lose its table.
private final class RecordingFilter: PacketFilter {
    private struct State {
        var applied: [String] = []
        var attempts = 0
        var failures: Int
        var hasTable = false
    }

    private let state: Mutex<State>

    init(failures: Int) { state = Mutex(State(failures: failures)) }

    var applied: [String] { state.withLock { $0.applied } }
    var attempts: Int { state.withLock { $0.attempts } }
    func removeTable() { state.withLock { $0.hasTable = false } }

    func apply(_ script: String) async throws {
        try state.withLock { state in
            state.attempts += 1
            if state.failures > 0 {
                state.failures -= 1
                throw RefusedTransaction()
            }
            state.applied.append(script)
            state.hasTable = true
        }
    }

    func hasTable() async -> Bool { state.withLock { $0.hasTable } }

    struct RefusedTransaction: Error {}
}
