import CapstanClient
import CapstanTesting
import Testing

/// The one wake-up primitive of the pod workers and the node lifecycle loop.
@Suite(.timeLimit(.minutes(5))) struct WakeupTests {
    private func sleeperRegistered(_ clock: ManualClock) async {
        while clock.sleeperCount == 0 { await Task.yield() }
    }

    @Test func aSignalBeforeTheWaitIsNotLost() async {
        // The clock never moves: only the remembered signal can end this wait.
        let wakeup = Wakeup(clock: ManualClock())
        wakeup.signal()
        await wakeup.wait(upTo: .seconds(3600))
    }

    @Test func aSignalEndsAWaitInProgress() async {
        let clock = ManualClock()
        let wakeup = Wakeup(clock: clock)
        async let waited: Void = wakeup.wait(upTo: .seconds(3600))
        await sleeperRegistered(clock)  // the timer is armed, so the waiter is parked
        wakeup.signal()
        await waited
    }

    @Test func severalSignalsCountAsOne() async {
        let clock = ManualClock()
        let wakeup = Wakeup(clock: clock)
        wakeup.signal()
        wakeup.signal()
        await wakeup.wait(upTo: .seconds(10))  // the remembered signal
        async let second: Void = wakeup.wait(upTo: .seconds(10))
        await sleeperRegistered(clock)
        // The second wait did not return on the second signal: its timer still sleeps.
        #expect(clock.sleeperCount == 1)
        clock.advance(by: .seconds(10))
        await second
    }

    @Test func theTimeoutRunsOnTheInjectedClock() async {
        let clock = ManualClock()
        let wakeup = Wakeup(clock: clock)
        async let waited: Void = wakeup.wait(upTo: .seconds(10))
        await sleeperRegistered(clock)
        clock.advance(by: .seconds(5))
        #expect(clock.sleeperCount == 1, "half the timeout does not end the wait")
        clock.advance(by: .seconds(5))
        await waited
    }

    @Test func cancellingTheWaiterEndsTheWait() async {
        let clock = ManualClock()
        let wakeup = Wakeup(clock: clock)
        let waiter = Task { await wakeup.wait(upTo: .seconds(3600)) }
        await sleeperRegistered(clock)
        waiter.cancel()
        await waiter.value
    }
}
