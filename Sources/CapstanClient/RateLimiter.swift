/// How long a key waits before it is retried: the larger of a per-key
/// exponential backoff and an overall token bucket, as client-go's default
/// controller rate limiter (`5ms·2^failures` capped at 1000 s, and 10 retries/s
/// with a burst of 100 overall).
///
/// The per-key part keeps one failing object from spinning; the bucket keeps
/// many failing objects together from flooding the API server. The bucket
/// refills on the injected clock, so a test clock decides how much time passed.
public struct RateLimiter<Key: Hashable & Sendable>: Sendable {
    public var baseDelay: Duration
    public var maxDelay: Duration
    /// Retries per second across all keys.
    public var ratePerSecond: Double
    public var burst: Int

    private var failures: [Key: Int] = [:]
    private var tokens: Double
    private var lastRefill: Duration?
    private let timeline: ClockTimeline

    /// - Parameter clock: what the token bucket refills by; the queue using this limiter should share it.
    public init(
        baseDelay: Duration = .milliseconds(5), maxDelay: Duration = .seconds(1000), ratePerSecond: Double = 10, burst: Int = 100,
        clock: any Clock<Duration> = ContinuousClock()
    ) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.ratePerSecond = ratePerSecond
        self.burst = burst
        self.tokens = Double(burst)
        self.timeline = ClockTimeline(clock: clock)
    }

    /// The delay before `key` is retried, counting this as one more failure.
    public mutating func when(_ key: Key) -> Duration {
        let count = failures[key, default: 0]
        failures[key] = count + 1
        let backoff = Self.backoff(base: baseDelay, max: maxDelay, failures: count)
        return Swift.max(backoff, reserveToken(now: timeline.now))
    }

    /// Failures recorded for `key` since it was last forgotten.
    public func failureCount(_ key: Key) -> Int { failures[key, default: 0] }

    /// Resets the backoff of `key` (it succeeded).
    public mutating func forget(_ key: Key) {
        failures.removeValue(forKey: key)
    }

    /// `base · 2^failures`, capped at `max` (and safe from overflow).
    static func backoff(base: Duration, max: Duration, failures: Int) -> Duration {
        guard failures < 62 else { return max }
        let scaled = base * (1 << failures)
        return scaled > max || scaled < .zero ? max : scaled
    }

    /// Takes a token, going into debt like Go's `rate.Limiter.Reserve`: the
    /// delay is how long until the debt is paid back.
    private mutating func reserveToken(now: Duration) -> Duration {
        guard ratePerSecond > 0 else { return .zero }
        if let last = lastRefill {
            let elapsed = now - last
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            tokens = Swift.min(Double(burst), tokens + seconds * ratePerSecond)
        }
        lastRefill = now
        tokens -= 1
        guard tokens < 0 else { return .zero }
        return .nanoseconds(Int64((-tokens / ratePerSecond) * 1e9))
    }
}
