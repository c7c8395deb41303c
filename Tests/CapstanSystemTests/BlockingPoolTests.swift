import CapstanSystem
import Foundation
import Synchronization
import Testing

/// The one bounded pool for blocking work.
@Suite struct BlockingPoolTests {
    /// The name of the calling thread (NIOThreadPool names its threads `TP-#<n>`).
    static func threadName() -> String {
        let name = try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)
        return name?.trimmingCharacters(in: .newlines) ?? ""
    }

    /// Counts how many jobs run at once and the most that ever did.
    final class Concurrency: Sendable {
        private let state = Mutex((running: 0, most: 0, started: 0))
        func enter() {
            state.withLock {
                $0.running += 1
                $0.started += 1
                $0.most = max($0.most, $0.running)
            }
        }
        func leave() { state.withLock { $0.running -= 1 } }
        var most: Int { state.withLock { $0.most } }
        var started: Int { state.withLock { $0.started } }
    }

    @Test func blockingWorkRunsOnPoolThreadsAndNoMoreAtOnceThanThePoolHas() async throws {
        let pool = BlockingPool(threads: 2)
        let concurrency = Concurrency()
        let gate = DispatchSemaphore(value: 0)
        try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try await pool.run {
                        concurrency.enter()
                        defer { concurrency.leave() }
                        gate.wait()
                        return Self.threadName()
                    }
                }
            }
            // Both threads are taken and six jobs wait in line; then let them all through.
            while concurrency.started < 2 { await Task.yield() }
            for _ in 0..<8 { gate.signal() }
            var names: Set<String> = []
            for try await name in group { names.insert(name) }
            #expect(names.allSatisfy { $0.hasPrefix("TP-#") }, "\(names)")
            #expect(names.count <= 2)
        }
        #expect(concurrency.most == 2)
        try await pool.shutDown()
    }

    @Test func errorsReachTheCaller() async throws {
        struct Broken: Error {}
        let pool = BlockingPool(threads: 1)
        await #expect(throws: Broken.self) { try await pool.run { throw Broken() } }
        #expect(try await pool.run { 42 } == 42)
        try await pool.shutDown()
    }

    /// An actor on the pool's serial executor: its methods block, one at a time.
    actor BlockingActor {
        private let executor: BlockingSerialExecutor
        nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
        private(set) var order: [Int] = []
        let concurrency = Concurrency()

        init(pool: BlockingPool) { executor = pool.makeSerialExecutor() }

        func append(_ value: Int) -> String {
            concurrency.enter()
            defer { concurrency.leave() }
            usleep(200)  // blocking, as a libgit2 call is
            order.append(value)
            return BlockingPoolTests.threadName()
        }
    }

    @Test func aSerialExecutorRunsAnActorsJobsOneAtATimeOnThePool() async throws {
        let pool = BlockingPool(threads: 4)
        let actor = BlockingActor(pool: pool)
        let names = await withTaskGroup(of: String.self, returning: Set<String>.self) { group in
            for value in 0..<50 { group.addTask { await actor.append(value) } }
            var names: Set<String> = []
            for await name in group { names.insert(name) }
            return names
        }
        #expect(actor.concurrency.most == 1)
        #expect(await actor.order.sorted() == Array(0..<50))
        #expect(names.allSatisfy { $0.hasPrefix("TP-#") }, "\(names)")
        // Calls from one task keep their order.
        for value in 50..<60 { _ = await actor.append(value) }
        #expect(await Array(actor.order.suffix(10)) == Array(50..<60))
        try await pool.shutDown()
    }

    @Test(arguments: [
        ([:], BlockingPool.defaultThreadCount),
        (["CAPSTAN_BLOCKING_THREADS": "4"], 4),
        (["CAPSTAN_BLOCKING_THREADS": "0"], BlockingPool.defaultThreadCount),
        (["CAPSTAN_BLOCKING_THREADS": "many"], BlockingPool.defaultThreadCount),
        (["CAPSTAN_BLOCKING_THREADS": "5000"], BlockingPool.defaultThreadCount),
    ])
    func theSharedPoolsSizeComesFromTheEnvironment(environment: [String: String], expected: Int) {
        #expect(BlockingPool.threadCount(from: environment) == expected)
    }
}
