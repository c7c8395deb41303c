public import CapstanCore
public import Logging
public import ServiceLifecycle

/// Runs a ``Reconciler``: an informer feeds keys of changed objects into a
/// ``WorkQueue``, and `workers` tasks take keys off it one at a time. The
/// queue guarantees no key is reconciled by two workers at once.
///
/// Ends on cancellation or graceful shutdown: the informer stops, the queue
/// shuts down, and workers finish the key they hold.
public struct Controller<Object: KubernetesObjectView>: ServiceLifecycle.Service {
    public let name: String
    public let informer: Informer<Object>
    public let queue: WorkQueue<ObjectKey>
    let reconciler: any Reconciler
    let workers: Int
    let runsInformer: Bool
    let logger: Logger

    /// - Parameters:
    ///   - runsInformer: false when the informer is shared and run by someone else.
    public init(
        name: String, informer: Informer<Object>, reconciler: any Reconciler, workers: Int = 2,
        queue: WorkQueue<ObjectKey> = WorkQueue(), runsInformer: Bool = true, logger: Logger
    ) {
        self.name = name
        self.informer = informer
        self.reconciler = reconciler
        self.workers = max(1, workers)
        self.queue = queue
        self.runsInformer = runsInformer
        self.logger = logger
    }

    public func run() async throws {
        let queue = self.queue
        let changes = informer.changes()
        try await cancelWhenGracefulShutdown {
            try await withTaskCancellationHandler {
                try await withThrowingDiscardingTaskGroup { group in
                    if runsInformer { group.addTask { try await informer.run() } }
                    group.addTask {
                        for await change in changes { await queue.add(change.key) }
                    }
                    await informer.waitForSync()
                    for index in 0..<workers {
                        group.addTask { await work(index) }
                    }
                }
            } onCancel: {
                // Wakes the workers blocked in get(); they see nil and return.
                Task { await queue.shutDown() }
            }
        }
    }

    private func work(_ index: Int) async {
        while let key = await queue.get() {
            do {
                switch try await reconciler.reconcile(key) {
                case .done:
                    await queue.forget(key)
                case .requeueAfter(let delay):
                    await queue.forget(key)
                    await queue.addAfter(key, delay)
                }
            } catch {
                let failures = await queue.failures(key)
                logger.warning("\(name): reconciling \(key) failed; retrying", metadata: ["error": "\(error)", "failures": "\(failures + 1)", "worker": "\(index)"])
                await queue.addRateLimited(key)
            }
            await queue.done(key)
        }
    }
}
