public import CapstanCore
public import Logging
public import ServiceLifecycle

/// Runs a ``Reconciler``: an informer feeds keys of changed objects into a
/// ``WorkQueue``, and `workers` tasks take keys off it one at a time through
/// ``ReconcileWorkers``. The queue guarantees no key is reconciled by two
/// workers at once. A ``TerminalError`` is not retried: `terminalErrors`
/// reports it about the object (an Event, a condition), or it is only logged.
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
    let terminalErrors: TerminalErrorReporter?
    let logger: Logger

    /// - Parameters:
    ///   - runsInformer: false when the informer is shared and run by someone else.
    ///   - terminalErrors: where a ``TerminalError`` is reported; nil to log it only.
    public init(
        name: String, informer: Informer<Object>, reconciler: any Reconciler, workers: Int = 2,
        queue: WorkQueue<ObjectKey> = WorkQueue(), runsInformer: Bool = true,
        terminalErrors: TerminalErrorReporter? = nil, logger: Logger
    ) {
        self.name = name
        self.informer = informer
        self.reconciler = reconciler
        self.workers = max(1, workers)
        self.queue = queue
        self.runsInformer = runsInformer
        self.terminalErrors = terminalErrors
        self.logger = logger
    }

    public func run() async throws {
        let queue = self.queue
        let changes = informer.changes()
        let informer = self.informer
        let reconciler = self.reconciler
        let terminalErrors = self.terminalErrors
        let runner = ReconcileWorkers(
            name: name, queue: queue, logger: logger,
            onTerminal: { key, error in
                // Gone meanwhile: nothing left to report on.
                guard let terminalErrors, let object = informer.get(key) else { return }
                await terminalErrors.report(error, about: object, kind: informer.kind)
            },
            reconcile: { key in try await reconciler.reconcile(key) })
        try await cancelWhenGracefulShutdown {
            try await withTaskCancellationHandler {
                try await withThrowingDiscardingTaskGroup { group in
                    if runsInformer { group.addTask { try await informer.run() } }
                    group.addTask {
                        for await change in changes { await queue.add(change.key) }
                    }
                    await informer.waitForSync()
                    group.addTask { await runner.run(workers: workers) }
                }
            } onCancel: {
                // Wakes the workers blocked in get(); they see nil and return.
                Task { await queue.shutDown() }
            }
        }
    }
}
