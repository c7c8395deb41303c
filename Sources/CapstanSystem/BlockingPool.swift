import Foundation
package import NIOPosix
import Synchronization

/// The one place Capstan runs work that blocks a thread: libgit2's network and
/// disk calls, probes' sockets, unpacking image layers, waiting for helper
/// programs. A bounded set of threads (SwiftNIO's `NIOThreadPool`), never
/// Swift's cooperative threads, so blocking work cannot stall the tasks that
/// serve the API, watches and gRPC; and never a new thread per call, so a
/// burst of it cannot exhaust the process's threads either. Work beyond the
/// pool's size waits in line, in order.
///
/// Long-lived watchers (a container's monitor, the store's single writer)
/// keep threads of their own: parked on a pool thread for their whole life
/// they would shrink the pool for everyone else.
///
/// ```swift
/// let head = try await BlockingPool.shared.run { try repository.fetch() }
/// ```
package final class BlockingPool: Sendable {
    /// Threads of ``shared`` when `CAPSTAN_BLOCKING_THREADS` does not say: the
    /// work is waiting on disks, sockets and children, not computing, so more
    /// threads than cores, and enough that a few probes of unreachable
    /// addresses (each waiting out its timeout) leave room for the rest.
    package static let defaultThreadCount = 16

    /// The process's pool: `CAPSTAN_BLOCKING_THREADS` threads (1…1024), or
    /// ``defaultThreadCount``. Started on first use, never shut down.
    package static let shared = BlockingPool(threads: threadCount(from: ProcessInfo.processInfo.environment))

    private let pool: NIOThreadPool
    /// The number of threads.
    package let threads: Int

    /// A started pool of `threads` threads; call ``shutDown()`` when done with it.
    package init(threads: Int) {
        self.threads = max(1, threads)
        pool = NIOThreadPool(numberOfThreads: self.threads)
        pool.start()
    }

    /// The size `environment` asks for in `CAPSTAN_BLOCKING_THREADS`, or the default
    /// when it is missing or not a number from 1 to 1024.
    package static func threadCount(from environment: [String: String]) -> Int {
        guard let text = environment["CAPSTAN_BLOCKING_THREADS"], let count = Int(text), (1...1024).contains(count) else {
            return defaultThreadCount
        }
        return count
    }

    /// Runs `work` on a pool thread and returns what it returns or throws.
    /// Cancelling the calling task before `work` starts removes it from the
    /// line and throws `CancellationError`; once started it runs to its end.
    package func run<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await pool.runIfActive(work)
    }

    /// Stops the pool's threads once the work already given to it is done.
    package func shutDown() async throws {
        try await pool.shutdownGracefully()
    }

    /// A serial executor on this pool, for an actor whose every method blocks
    /// (`GitMirror`'s libgit2 calls): the actor's jobs run one at a time, each
    /// on some pool thread, in the order they were enqueued.
    package func makeSerialExecutor() -> BlockingSerialExecutor {
        BlockingSerialExecutor(pool: pool)
    }
}

/// Runs one actor's jobs on a ``BlockingPool``, one at a time and in order.
/// At most one pool thread works for it at once; between jobs it holds none.
package final class BlockingSerialExecutor: SerialExecutor {
    private struct Line {
        var jobs: [UnownedJob] = []
        var draining = false
    }

    private let pool: NIOThreadPool
    private let line = Mutex(Line())

    fileprivate init(pool: NIOThreadPool) {
        self.pool = pool
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let startDrain = line.withLock { line in
            line.jobs.append(job)
            defer { line.draining = true }
            return !line.draining
        }
        if startDrain { pool.submit { [self] _ in drain() } }
    }

    package func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Runs jobs until the line is empty. A pool that was shut down still
    /// runs them (as `.cancelled`): an actor's job must never be dropped.
    private func drain() {
        while true {
            let next: UnownedJob? = line.withLock { line in
                guard !line.jobs.isEmpty else {
                    line.draining = false
                    return nil
                }
                return line.jobs.removeFirst()
            }
            guard let next else { return }
            next.runSynchronously(on: asUnownedSerialExecutor())
        }
    }
}
