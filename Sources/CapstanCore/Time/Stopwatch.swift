extension Clock where Duration == Swift.Duration {
    /// Time elapsed on this clock since the call: works on `any Clock<Duration>`,
    /// whose instants cannot be subtracted without knowing their type.
    package func stopwatch() -> @Sendable () -> Duration {
        let start = now
        return { start.duration(to: self.now) }
    }

    /// Time left until `timeout` after the call, never negative.
    package func deadline(after timeout: Duration) -> @Sendable () -> Duration {
        let elapsed = stopwatch()
        return { max(.zero, timeout - elapsed()) }
    }
}
