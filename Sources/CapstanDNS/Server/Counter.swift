import Synchronization

/// A count with a ceiling, shared between a serving loop and its child tasks.
final class Counter: Sendable {
    private let value = Mutex(0)

    /// Adds one unless the count already is `limit`; returns whether it did.
    func increment(ifBelow limit: Int) -> Bool {
        value.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func decrement() {
        value.withLock { $0 -= 1 }
    }
}
