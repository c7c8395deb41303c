import Synchronization

/// A byte queue between one producer and one consumer, bounded in bytes:
/// the producer waits while `limit` bytes are queued; the consumer takes
/// everything queued at once.
final class LogPipe: AsyncSequence, Sendable {
    typealias Element = [UInt8]

    private struct State {
        var queued: [UInt8] = []
        var finished = false
        var error: (any Error)?
        var consumer: CheckedContinuation<Void, Never>?
        var producer: CheckedContinuation<Void, Never>?
        var onReaderGone: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    /// Called once if the consumer stops before the end (cancelled).
    var onReaderGone: (@Sendable () -> Void)? {
        get { state.withLock { $0.onReaderGone } }
        set { state.withLock { $0.onReaderGone = newValue } }
    }

    /// Queues a chunk, waiting while the queue is full; false once the pipe is finished (the reader left).
    func send(_ chunk: [UInt8]) async -> Bool {
        let (wake, full) = state.withLock { state -> (CheckedContinuation<Void, Never>?, Bool) in
            guard !state.finished else { return (nil, false) }
            state.queued += chunk
            defer { state.consumer = nil }
            return (state.consumer, state.queued.count >= limit)
        }
        wake?.resume()
        if full {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if state.finished || state.queued.count < limit { return true }
                    state.producer = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        }
        return !state.withLock { $0.finished }
    }

    /// Ends the pipe after what is queued (with `error`, if given); wakes both sides.
    func finish(throwing error: (any Error)? = nil) {
        let (consumer, producer) = state.withLock { state -> (CheckedContinuation<Void, Never>?, CheckedContinuation<Void, Never>?) in
            if !state.finished {
                state.finished = true
                state.error = error
            }
            defer {
                state.consumer = nil
                state.producer = nil
            }
            return (state.consumer, state.producer)
        }
        consumer?.resume()
        producer?.resume()
    }

    /// Everything queued, or nil at the end; waits while the queue is empty.
    func next() async throws -> [UInt8]? {
        while true {
            if Task.isCancelled {
                let gone = state.withLock { $0.onReaderGone }
                finish()
                gone?()
                return nil
            }
            enum Step {
                case data([UInt8], CheckedContinuation<Void, Never>?)
                case end((any Error)?)
                case wait
            }
            let step = state.withLock { state -> Step in
                if !state.queued.isEmpty {
                    let data = state.queued
                    state.queued = []
                    defer { state.producer = nil }
                    return .data(data, state.producer)
                }
                return state.finished ? .end(state.error) : .wait
            }
            switch step {
            case .data(let data, let producer):
                producer?.resume()
                return data
            case .end(let error):
                if let error { throw error }
                return nil
            case .wait:
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let ready = state.withLock { state -> Bool in
                            if !state.queued.isEmpty || state.finished { return true }
                            state.consumer = continuation
                            return false
                        }
                        if ready { continuation.resume() }
                    }
                } onCancel: {
                    self.wakeConsumer()
                }
            }
        }
    }

    private func wakeConsumer() {
        let consumer = state.withLock { state -> CheckedContinuation<Void, Never>? in
            defer { state.consumer = nil }
            return state.consumer
        }
        consumer?.resume()
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let pipe: LogPipe
        mutating func next() async throws -> [UInt8]? { try await pipe.next() }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(pipe: self) }
}
