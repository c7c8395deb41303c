/// A queue of keys for reconcile workers, as client-go's rate-limited work queue.
///
/// - A key waiting in the queue is there once, however often it is added (dedup).
/// - A key being processed is never handed to a second worker: adding it
///   meanwhile marks it dirty, and ``done(_:)`` puts it back for one more pass.
/// - ``addRateLimited(_:)`` delays a key by its exponential backoff (5 ms
///   doubling up to 1000 s) or the overall token bucket, whichever is longer;
///   ``forget(_:)`` resets the backoff after a success.
///
/// Workers loop `while let key = await queue.get() { …; await queue.done(key) }`;
/// ``shutDown()`` makes every waiting and later `get()` return nil.
///
/// Delays (``addAfter(_:_:)``, backoff) run on the injected clock: a test
/// passes a manual clock and advances it past a delay instead of waiting it out.
public actor WorkQueue<Key: Hashable & Sendable> {
    private var queue: [Key] = []
    private var head = 0
    private var dirty: Set<Key> = []
    private var processing: Set<Key> = []
    private var getters: [CheckedContinuation<Key?, Never>] = []
    /// Delayed keys and when they are due, as readings of `timeline`.
    private var delayed: [Key: Duration] = [:]
    private var timer: Task<Void, Never>?
    private var timerDeadline: Duration?
    private var limiter: RateLimiter<Key>
    private let timeline: ClockTimeline
    private var shuttingDown = false

    /// - Parameters:
    ///   - rateLimiter: the backoff for ``addRateLimited(_:)``; by default client-go's, on `clock`.
    ///   - clock: what delayed keys wait on.
    public init(rateLimiter: RateLimiter<Key>? = nil, clock: any Clock<Duration> = ContinuousClock()) {
        self.limiter = rateLimiter ?? RateLimiter(clock: clock)
        self.timeline = ClockTimeline(clock: clock)
    }

    /// Queues `key` unless it is already waiting; a key being processed is queued after ``done(_:)``.
    public func add(_ key: Key) {
        guard !shuttingDown, !dirty.contains(key) else { return }
        dirty.insert(key)
        delayed.removeValue(forKey: key)
        if processing.contains(key) { return }
        if let getter = getters.popLast() {
            dirty.remove(key)
            processing.insert(key)
            getter.resume(returning: key)
        } else {
            queue.append(key)
        }
    }

    /// Queues `key` after `delay`; an earlier pending time for the same key wins.
    public func addAfter(_ key: Key, _ delay: Duration) {
        guard !shuttingDown else { return }
        guard delay > .zero else { return add(key) }
        let due = timeline.now + delay
        if let existing = delayed[key], existing <= due { return }
        delayed[key] = due
        armTimer()
    }

    /// Queues `key` after its backoff: call when reconciling it failed.
    public func addRateLimited(_ key: Key) {
        addAfter(key, limiter.when(key))
    }

    /// Resets `key`'s backoff: call when reconciling it succeeded.
    public func forget(_ key: Key) {
        limiter.forget(key)
    }

    /// How many times `key` was rate-limited since it was last forgotten.
    public func failures(_ key: Key) -> Int { limiter.failureCount(key) }

    /// The next key to process, waiting for one; nil once the queue is shut down.
    public func get() async -> Key? {
        if shuttingDown { return nil }
        if head < queue.count {
            let key = queue[head]
            head += 1
            if head > 1024, head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            dirty.remove(key)
            processing.insert(key)
            return key
        }
        return await withCheckedContinuation { getters.insert($0, at: 0) }
    }

    /// Marks `key` processed; if it was added meanwhile it is queued again.
    public func done(_ key: Key) {
        processing.remove(key)
        if dirty.contains(key) {
            dirty.remove(key)
            add(key)
        }
    }

    /// Keys waiting (not counting delayed or in-process ones).
    public var count: Int { queue.count - head }

    /// Whether `key` waits to be processed, now or after a delay.
    public func isQueued(_ key: Key) -> Bool { dirty.contains(key) || delayed[key] != nil }

    /// Whether `key` is being processed by a worker now.
    public func isProcessing(_ key: Key) -> Bool { processing.contains(key) }

    /// Stops handing out keys: waiting and later ``get()`` calls return nil.
    public func shutDown() {
        shuttingDown = true
        timer?.cancel()
        timer = nil
        delayed.removeAll()
        let waiting = getters
        getters.removeAll()
        for getter in waiting { getter.resume(returning: nil) }
    }

    // MARK: Delayed keys

    /// One timer task, owned by the queue and cancelled by ``shutDown()``,
    /// wakes at the earliest due time. (Timers need a task of their own; the
    /// queue keeps exactly one and never leaks it.)
    private func armTimer() {
        guard let earliest = delayed.values.min() else {
            timer?.cancel()
            timer = nil
            timerDeadline = nil
            return
        }
        if let deadline = timerDeadline, deadline <= earliest, timer != nil { return }
        timer?.cancel()
        timerDeadline = earliest
        let timeline = self.timeline
        timer = Task { [weak self] in
            try? await timeline.sleep(until: earliest)
            guard !Task.isCancelled else { return }
            await self?.promoteDue()
        }
    }

    private func promoteDue() {
        timer = nil
        timerDeadline = nil
        let now = timeline.now
        let due = delayed.filter { $0.value <= now }.sorted { $0.value < $1.value }
        for (key, _) in due {
            delayed.removeValue(forKey: key)
            add(key)
        }
        armTimer()
    }
}
