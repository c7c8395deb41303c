public import Foundation

/// Where the agent reads the time of day: status timestamps, Lease renewals,
/// and the back-off and probe delays measured from the times the runtime
/// reports (a container's `startedAt` and `finishedAt` are wall-clock times).
/// Sleeping and measuring durations go through an injected `Clock` instead;
/// a test clock is both, so advancing it moves the two together.
public protocol WallClock: Sendable {
    /// The current date.
    var currentDate: Date { get }
}

/// The system's time of day.
public struct SystemWallClock: WallClock {
    public init() {}

    public var currentDate: Date { Date() }
}

/// Runs `work` and returns its result and how long it took on `clock`.
func timed<T>(on clock: any Clock<Duration>, _ work: () async -> T) async -> (result: T, took: Duration) {
    var result: T?
    let took = await clock.measure { result = await work() }
    return (result!, took)
}
