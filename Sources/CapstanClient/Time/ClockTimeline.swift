import CapstanCore

/// Readings of an injected clock as the time elapsed since the timeline was
/// made, so a type that holds `any Clock<Duration>` can store, compare and
/// sleep until instants without naming the clock's `Instant` type.
package struct ClockTimeline: Sendable {
    package let clock: any Clock<Duration>
    private let elapsed: @Sendable () -> Duration

    package init(clock: any Clock<Duration>) {
        self.clock = clock
        self.elapsed = clock.stopwatch()
    }

    /// The time elapsed on the clock since this timeline was made.
    package var now: Duration { elapsed() }

    /// Sleeps on the clock until `deadline` (a reading of ``now``); throws when cancelled.
    package func sleep(until deadline: Duration) async throws {
        try await clock.sleep(for: max(.zero, deadline - now))
    }

}
