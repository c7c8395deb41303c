import CapstanAPI
import CapstanAPIServer
import CapstanClient
import CapstanCore
import CapstanTestSupport
import CapstanTesting
import Logging
import Synchronization
import Testing

/// Fails every pass with a terminal error and counts the passes.
final class TerminallyFailingReconciler: Reconciler {
    static let error = TerminalError(reason: "InvalidSpec", message: "spec.replicas must not be negative", conditionType: "ReconcileFailed")
    let passes = Mutex(0)

    func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        passes.withLock { $0 += 1 }
        throw Self.error
    }
}

/// A ``TerminalError`` is never retried, and is reported as an Event and a condition.
@Suite struct TerminalErrorTests {
    @Test func aTerminalErrorIsReportedAndNotRetried() async throws {
        let queue = WorkQueue<String>(rateLimiter: RateLimiter(baseDelay: .milliseconds(5), ratePerSecond: 0))
        let (reports, reported) = AsyncStream<String>.makeStream()
        let workers = ReconcileWorkers(
            name: "test", queue: queue, logger: Logger(label: "test"),
            onTerminal: { key, error in reported.yield("\(key) \(error.reason)") },
            reconcile: { _ in throw TerminallyFailingReconciler.error })
        await queue.add("broken")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await workers.run(workers: 1) }
            var iterator = reports.makeAsyncIterator()
            #expect(await iterator.next() == "broken InvalidSpec")
            // Reported after the key was forgotten and not requeued: nothing will retry it.
            #expect(await queue.failures("broken") == 0)
            #expect(await !queue.isQueued("broken"))
            await queue.shutDown()
            group.cancelAll()
        }
    }

    @Test func aPlainErrorIsRetriedWithBackoff() async throws {
        let clock = ManualClock()
        let queue = WorkQueue<String>(rateLimiter: RateLimiter(baseDelay: .seconds(600), ratePerSecond: 0, clock: clock), clock: clock)
        let (attempts, attempted) = AsyncStream<Void>.makeStream()
        let workers = ReconcileWorkers(name: "test", queue: queue, logger: Logger(label: "test")) { _ in
            defer { attempted.yield() }
            throw APIError.internalError("transient")
        }
        await queue.add("flaky")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await workers.run(workers: 1) }
            var iterator = attempts.makeAsyncIterator()
            _ = await iterator.next()
            try await eventuallyTrue { await queue.failures("flaky") == 1 }
            #expect(await queue.isQueued("flaky"))  // waiting out its backoff
            clock.advance(by: .seconds(599))
            #expect(await queue.count == 0)
            clock.advance(by: .seconds(1))
            _ = await iterator.next()  // the second attempt, once the backoff is over
            try await eventuallyTrue { await queue.failures("flaky") == 2 }
            await queue.shutDown()
            group.cancelAll()
        }
    }

    @Test func theControllerWritesAWarningEventAndTheConditionOnce() async throws {
        try await withRegistry { registry in
            let client = InProcessClient(registry: registry)
            let informer = Informer<Deployment>(client: client, kind: BuiltinKinds.deployment, logger: Logger(label: "test"))
            let reconciler = TerminallyFailingReconciler()
            let controller = Controller(
                name: "test", informer: informer, reconciler: reconciler, workers: 1,
                terminalErrors: TerminalErrorReporter(client: client, component: "test-controller", logger: Logger(label: "test")),
                logger: Logger(label: "test"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await controller.run() }
                let deployment: JSONValue = [
                    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web"],
                    "spec": [
                        "replicas": 1, "selector": ["matchLabels": ["app": "web"]],
                        "template": ["metadata": ["labels": ["app": "web"]], "spec": ["containers": [["name": "web", "image": "nginx"]]]],
                    ],
                ]
                _ = try await client.create(BuiltinKinds.deployment, namespace: "default", object: deployment, options: writer)
                try await eventuallyTrue {
                    let stored = try await client.get(BuiltinKinds.deployment, namespace: "default", name: "web")
                    return stored["status"]?["conditions"]?.arrayValue?.contains {
                        $0["type"] == "ReconcileFailed" && $0["status"] == "False" && $0["reason"] == "InvalidSpec"
                    } == true
                }
                let events = try await client.list(BuiltinKinds.event, namespace: "default", options: ListOptions()).items
                let warnings = events.filter { $0["reason"] == "InvalidSpec" && $0[path: ["involvedObject", "name"]] == "web" }
                #expect(warnings.first?["type"] == "Warning")
                #expect(warnings.first?["message"] == "spec.replicas must not be negative")
                #expect(await controller.queue.failures(ObjectKey(namespace: "default", name: "web")) == 0)
                group.cancelAll()
            }
        }
    }

    /// Waits on state reached through a watch.
    func eventuallyTrue(_ condition: () async throws -> Bool) async throws {
        #expect(await eventually { (try? await condition()) == true })
    }
}
