public import Foundation

/// Where a component reads the time of day: timestamps it writes into objects
/// (conditions, taints, Lease renewals) and deadlines counted from timestamps
/// other components wrote (a heartbeat, a condition's `lastUpdateTime`, a
/// container's `finishedAt`). Sleeping and measuring durations go through an
/// injected `Clock<Duration>` instead; a test clock is both, so advancing it
/// moves the two together.
public protocol WallClock: Sendable {
    /// The current date.
    var currentDate: Date { get }
}

/// The system's time of day.
public struct SystemWallClock: WallClock {
    public init() {}

    public var currentDate: Date { Date() }
}
