import CapstanTestSupport
import CapstanTesting
import Synchronization
import Testing

@testable import CapstanClient

@Suite struct WorkQueueTests {
    @Test func addingAWaitingKeyAgainKeepsOneCopy() async {
        let queue = WorkQueue<String>()
        await queue.add("a")
        await queue.add("b")
        await queue.add("a")
        #expect(await queue.count == 2)
        #expect(await queue.get() == "a")
        #expect(await queue.get() == "b")
        #expect(await queue.count == 0)
    }

    @Test func aKeyAddedWhileProcessingComesBackOnceAfterDone() async {
        let queue = WorkQueue<String>()
        await queue.add("a")
        let key = await queue.get()
        #expect(key == "a")
        await queue.add("a")
        await queue.add("a")
        // Not handed out while a worker holds it.
        #expect(await queue.count == 0)
        #expect(await queue.isProcessing("a"))
        await queue.done("a")
        #expect(await queue.count == 1)
        #expect(await queue.get() == "a")
        await queue.done("a")
        #expect(await queue.count == 0)
    }

    @Test func noKeyIsProcessedByTwoWorkersAtOnce() async {
        let queue = WorkQueue<Int>()
        let tracker = Tracker()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    while let key = await queue.get() {
                        let clash = tracker.active.withLock { !$0.insert(key).inserted }
                        if clash { tracker.overlaps.withLock { $0 += 1 } }
                        try? await Task.sleep(for: .microseconds(200))
                        tracker.active.withLock { _ = $0.remove(key) }
                        tracker.processed.withLock { $0 += 1 }
                        await queue.done(key)
                    }
                }
            }
            // Five keys, added over and over while workers hold them.
            for round in 0..<200 {
                await queue.add(round % 5)
                if round % 20 == 0 { try? await Task.sleep(for: .milliseconds(1)) }
            }
            #expect(await eventually { await queue.count == 0 })
            try? await Task.sleep(for: .milliseconds(20))
            await queue.shutDown()
        }
        #expect(tracker.overlaps.withLock { $0 } == 0)
        #expect(tracker.processed.withLock { $0 } >= 5)
    }

    @Test func backoffDoublesFrom5msAndIsCapped() {
        var limiter = RateLimiter<String>(ratePerSecond: 0)
        let delays = (0..<5).map { _ in limiter.when("a") }
        #expect(delays == [.milliseconds(5), .milliseconds(10), .milliseconds(20), .milliseconds(40), .milliseconds(80)])
        #expect(limiter.when("b") == .milliseconds(5))
        limiter.forget("a")
        #expect(limiter.when("a") == .milliseconds(5))
        #expect(RateLimiter<String>.backoff(base: .milliseconds(5), max: .seconds(1000), failures: 30) == .seconds(1000))
        #expect(RateLimiter<String>.backoff(base: .milliseconds(5), max: .seconds(1000), failures: 500) == .seconds(1000))
    }

    @Test func tokenBucketDelaysBeyondTheBurstAndRefillsOnItsClock() {
        let clock = ManualClock()
        var limiter = RateLimiter<Int>(baseDelay: .nanoseconds(1), ratePerSecond: 10, burst: 2, clock: clock)
        #expect(limiter.when(1) == .nanoseconds(1))
        #expect(limiter.when(2) == .nanoseconds(1))
        // The third while the clock stands still waits for a token: 1/10 s.
        #expect(limiter.when(3) == .milliseconds(100))
        // 300 ms on the clock pay the debt back and refill the burst.
        clock.advance(by: .milliseconds(300))
        #expect(limiter.when(4) == .nanoseconds(1))
        #expect(limiter.when(5) == .nanoseconds(1))
        #expect(limiter.when(6) == .milliseconds(100))
    }

    @Test func rateLimitedKeysComeBackAfterTheirBackoffOnTheQueuesClock() async {
        let clock = ManualClock()
        let queue = WorkQueue<String>(rateLimiter: RateLimiter(baseDelay: .seconds(30), ratePerSecond: 0, clock: clock), clock: clock)
        await queue.addRateLimited("a")
        #expect(await queue.failures("a") == 1)
        #expect(await queue.isQueued("a"))
        // The key's timer only wakes once the clock reaches its deadline.
        clock.advance(by: .seconds(29))
        #expect(await queue.count == 0)
        clock.advance(by: .seconds(1))
        #expect(await eventually { await queue.count == 1 })
        #expect(await queue.get() == "a")
        await queue.done("a")
        await queue.forget("a")
        #expect(await queue.failures("a") == 0)
    }

    @Test func addAfterKeepsTheEarlierTimeAndAddOverridesIt() async {
        let clock = ManualClock()
        let queue = WorkQueue<String>(clock: clock)
        await queue.addAfter("a", .seconds(3600))
        await queue.addAfter("a", .seconds(10))
        clock.advance(by: .seconds(9))
        #expect(await queue.count == 0)
        // Had the first call's hour stood, the key would not come now.
        clock.advance(by: .seconds(1))
        #expect(await eventually { await queue.count == 1 })
        #expect(await queue.get() == "a")
        await queue.done("a")
        await queue.addAfter("b", .seconds(60))
        await queue.add("b")
        #expect(await queue.get() == "b")
    }

    @Test func shutDownWakesWaitingWorkers() async {
        let queue = WorkQueue<String>()
        async let waiting = queue.get()
        try? await Task.sleep(for: .milliseconds(20))
        await queue.shutDown()
        #expect(await waiting == nil)
        #expect(await queue.get() == nil)
    }
}

/// Shared counters for concurrent workers.
final class Tracker: Sendable {
    let active = Mutex<Set<Int>>([])
    let overlaps = Mutex(0)
    let processed = Mutex(0)
}
