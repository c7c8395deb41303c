import CapstanAPI
import CapstanAPIServer
import CapstanClient
import CapstanCore
import CapstanTestSupport
import CapstanTesting
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
            let clock = ManualClock()
            let controller = Controller(
                name: "test", informer: informer, reconciler: reconciler, workers: 3,
                queue: WorkQueue(rateLimiter: RateLimiter(baseDelay: .seconds(1), ratePerSecond: 0, clock: clock), clock: clock),
                logger: Logger(label: "test"))
            func attempts() -> [String: Int] { reconciler.attempts.withLock { $0 } }
            let one = ObjectKey(namespace: "default", name: "one")
            let again = ObjectKey(namespace: "default", name: "again")
            func failures() async -> [Int] { [await controller.queue.failures(one), await controller.queue.failures(again)] }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await controller.run() }
                _ = try await client.create(BuiltinKinds.configMap, namespace: "default", object: configMap("again"), options: writer)
                // Two failures, each retried once the clock passes its backoff (1 s, then 2 s), then success;
                // "again" also requeues itself once, after 20 ms.
                #expect(await eventually { attempts() == ["default/one": 1, "default/again": 1] })
                #expect(await eventually { await failures() == [1, 1] })
                clock.advance(by: .seconds(1))
                #expect(await eventually { attempts() == ["default/one": 2, "default/again": 2] })
                #expect(await eventually { await failures() == [2, 2] })
                clock.advance(by: .seconds(1))
                #expect(await controller.queue.count == 0, "half the second backoff retries nothing")
                clock.advance(by: .seconds(1))
                #expect(await eventually { attempts() == ["default/one": 3, "default/again": 3] })
                clock.advance(by: .milliseconds(20))
                #expect(await eventually { attempts()["default/again"] == 4 })
                // Nothing waits any more, so no later time brings another pass.
                #expect(
                    await eventually {
                        var waiting: [Bool] = []
                        for key in [one, again] {
                            waiting.append(await controller.queue.isQueued(key))
                            waiting.append(await controller.queue.isProcessing(key))
                        }
                        return !waiting.contains(true)
                    })
                #expect(attempts() == ["default/one": 3, "default/again": 4])
                #expect(await controller.queue.failures(one) == 0)
                group.cancelAll()
            }
        }
    }
}
