import CapstanTesting
import Foundation
import Testing

/// The test clock the agent's tests drive time with.
@Suite(.timeLimit(.minutes(5)))
struct ManualClockTests {
    @Test func aSleeperWakesWhenTheClockReachesItsDeadline() async throws {
        let clock = ManualClock(start: Date(timeIntervalSince1970: 1_000))
        let sleeper = Task { try await clock.sleep(for: .seconds(10)) }
        while clock.sleeperCount == 0 { await Task.yield() }
        clock.advance(by: .seconds(9))
        #expect(clock.sleeperCount == 1, "woke before its deadline")
        #expect(clock.currentDate == Date(timeIntervalSince1970: 1_009))
        clock.advance(by: .seconds(1))
        #expect(clock.sleeperCount == 0)
        try await sleeper.value
    }

    @Test func aCancelledSleeperThrowsAndLeaves() async throws {
        let clock = ManualClock()
        let sleeper = Task { try await clock.sleep(for: .seconds(10)) }
        while clock.sleeperCount == 0 { await Task.yield() }
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.sleeperCount == 0)
    }

    @Test func aDeadlineAlreadyPassedDoesNotWait() async throws {
        let clock = ManualClock()
        clock.advance(by: .seconds(5))
        try await clock.sleep(until: clock.now.advanced(by: .seconds(-1)))
        #expect(clock.now.offset == .seconds(5))
    }
}
