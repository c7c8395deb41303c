public import Logging

/// The worker loop every control loop runs, whatever its key: take a key off
/// the ``WorkQueue``, reconcile it, and act on the result — `.done` forgets
/// the key's backoff, `.requeueAfter` queues it again later, a thrown error
/// retries it with rate-limited backoff, and a ``TerminalError`` forgets it and
/// hands it to `onTerminal` to report. ``Controller`` runs its reconciler
/// through it; so do the garbage collector and the scheduler.
public struct ReconcileWorkers<Key: Hashable & Sendable>: Sendable {
    public let name: String
    public let queue: WorkQueue<Key>
    let reconcile: @Sendable (Key) async throws -> ReconcileResult
    let onTerminal: @Sendable (Key, TerminalError) async -> Void
    let logger: Logger

    /// - Parameters:
    ///   - name: the loop's name, in log messages.
    ///   - onTerminal: reports a key that failed for good (an Event, a condition).
    public init(
        name: String, queue: WorkQueue<Key>, logger: Logger,
        onTerminal: @escaping @Sendable (Key, TerminalError) async -> Void = { _, _ in },
        reconcile: @escaping @Sendable (Key) async throws -> ReconcileResult
    ) {
        self.name = name
        self.queue = queue
        self.reconcile = reconcile
        self.onTerminal = onTerminal
        self.logger = logger
    }

    /// Runs `count` workers until the queue shuts down; each finishes the key it holds.
    public func run(workers count: Int) async {
        await withDiscardingTaskGroup { group in
            for index in 0..<max(1, count) {
                group.addTask { await work(index) }
            }
        }
    }

    private func work(_ index: Int) async {
        while let key = await queue.get() {
            do {
                switch try await reconcile(key) {
                case .done:
                    await queue.forget(key)
                case .requeueAfter(let delay):
                    await queue.forget(key)
                    await queue.addAfter(key, delay)
                }
            } catch let terminal as TerminalError {
                await queue.forget(key)
                logger.warning(
                    "\(name): reconciling \(key) failed for good; not retrying",
                    metadata: ["reason": "\(terminal.reason)", "error": "\(terminal.message)"])
                await onTerminal(key, terminal)
            } catch {
                let failures = await queue.failures(key)
                logger.warning(
                    "\(name): reconciling \(key) failed; retrying",
                    metadata: ["error": "\(error)", "failures": "\(failures + 1)", "worker": "\(index)"])
                await queue.addRateLimited(key)
            }
            await queue.done(key)
        }
    }
}
