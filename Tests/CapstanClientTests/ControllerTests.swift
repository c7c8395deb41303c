import CapstanAPI
import CapstanAPIServer
import CapstanClient
import CapstanCore
import CapstanTestSupport
import Logging
import Synchronization
import Testing

/// Records every key it sees; fails a key's first `failFirst` passes; asks
/// for one requeue of keys named `again`.
final class RecordingReconciler: Reconciler {
    let seen = Mutex<[String]>([])
    let failFirst: Int
    let attempts = Mutex<[String: Int]>([:])

    init(failFirst: Int) { self.failFirst = failFirst }

    func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        seen.withLock { $0.append(key.description) }
        let attempt = attempts.withLock { counts -> Int in
            counts[key.description, default: 0] += 1
            return counts[key.description]!
        }
        if attempt <= failFirst { throw APIError.internalError("transient failure \(attempt)") }
        if key.name == "again", attempt == failFirst + 1 { return .requeueAfter(.milliseconds(20)) }
        return .done
    }
}

@Suite struct ControllerTests {
    @Test func reconcilesEveryObjectAndRetriesFailures() async throws {
        try await withRegistry { registry in
            let client = InProcessClient(registry: registry)
            _ = try await client.create(BuiltinKinds.configMap, namespace: "default", object: configMap("one"), options: writer)
            let informer = Informer<ConfigMapView>(client: client, kind: BuiltinKinds.configMap, logger: Logger(label: "test"))
            let reconciler = RecordingReconciler(failFirst: 2)
            let controller = Controller(
                name: "test", informer: informer, reconciler: reconciler, workers: 3,
                queue: WorkQueue(rateLimiter: RateLimiter(baseDelay: .milliseconds(5), ratePerSecond: 0)), logger: Logger(label: "test"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await controller.run() }
                _ = try await client.create(BuiltinKinds.configMap, namespace: "default", object: configMap("again"), options: writer)
                // two failures, then success; "again" also requeues itself once.
                #expect(await eventually { reconciler.attempts.withLock { $0["default/one"] } == 3 })
                #expect(await eventually { reconciler.attempts.withLock { $0["default/again"] } == 4 })
                try await Task.sleep(for: .milliseconds(100))
                #expect(reconciler.attempts.withLock { $0["default/one"] } == 3)
                #expect(await controller.queue.failures(ObjectKey(namespace: "default", name: "one")) == 0)
                group.cancelAll()
            }
        }
    }
}
