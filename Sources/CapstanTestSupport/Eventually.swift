/// Polls `condition` until it holds, checking every 50 ms, for at most
/// `timeout` — a bound generous for a loaded 2-core machine running every
/// suite at once, never a timing assertion: it returns as soon as the
/// condition holds. Throws ``TimedOut`` (naming `what`) when it never does.
/// An error thrown by `condition` counts as "not yet".
public func eventually(_ what: String, timeout: Duration = .seconds(120), _ condition: () async throws -> Bool) async throws {
    guard await eventually(timeout: timeout, condition) else { throw TimedOut(what: what, after: timeout) }
}

/// Polls `condition` until it holds, for at most `timeout`; whether it came to
/// hold. For `#expect(await eventually { … })`, where the expectation names
/// the condition. An error thrown by `condition` counts as "not yet".
public func eventually(timeout: Duration = .seconds(120), _ condition: () async throws -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if (try? await condition()) == true { return true }
        do {
            try await Task.sleep(for: .milliseconds(50))
        } catch {
            return false
        }
    }
    return (try? await condition()) == true
}

/// A condition ``eventually(_:timeout:_:)`` waited for did not come to hold.
public struct TimedOut: Error, CustomStringConvertible {
    public var what: String
    public var after: Duration
    public var description: String { "timed out after \(after) waiting until \(what)" }
}
