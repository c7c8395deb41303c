import Synchronization

/// Time that moves only when a test says so, handed to the forwarder as its `now`.
final class ManualClock: Sendable {
    private let current = Mutex(Duration.seconds(1000))

    var now: @Sendable () -> Duration {
        { self.current.withLock { $0 } }
    }

    func advance(by duration: Duration) {
        current.withLock { $0 += duration }
    }
}
