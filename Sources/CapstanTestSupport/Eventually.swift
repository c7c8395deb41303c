/// Polls `condition` until it holds, checking every 100 ms, for at most
/// `timeout` — a bound generous for a loaded 2-core machine, never a timing
/// assertion: it returns as soon as the condition holds. Throws
/// ``TimedOut`` (naming `what`) when it never does.
public func eventually(_ what: String, timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    throw TimedOut(what: what, after: timeout)
}

/// A condition ``eventually(_:timeout:_:)`` waited for did not come to hold.
public struct TimedOut: Error, CustomStringConvertible {
    public var what: String
    public var after: Duration
    public var description: String { "timed out after \(after) waiting until \(what)" }
}
