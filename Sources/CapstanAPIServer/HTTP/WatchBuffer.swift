import NIOCore
import Synchronization

/// The queue between a watch's producer (the store feed) and the HTTP writer
/// sending it to the client, bounded in bytes and events.
///
/// The writer waits for the client's socket to drain, so a client that stops
/// reading stops the queue's consumer while events keep coming. When the
/// queue would pass its bounds the watch is closed: what is queued is dropped
/// and the stream ends, as Kubernetes closes watchers that fall behind. The
/// client has then received a prefix of the events, never one with a gap, and
/// re-watches from the last resourceVersion it saw (or re-lists).
final class WatchBuffer: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    struct State {
        var queue: [ByteBuffer] = []
        var head = 0
        var bytes = 0
        var finished = false
        var error: (any Error)?
        var waiter: CheckedContinuation<Void, Never>?
    }

    let maxBytes: Int
    let maxEvents: Int
    private let state = Mutex(State())

    init(maxBytes: Int, maxEvents: Int) {
        self.maxBytes = maxBytes
        self.maxEvents = maxEvents
    }

    /// Queues one event's bytes; false if that would overflow (the buffer is then closed and emptied).
    func push(_ buffer: ByteBuffer) -> Bool {
        let (accepted, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            guard !state.finished else { return (false, nil) }
            if state.bytes + buffer.readableBytes > maxBytes || state.queue.count - state.head >= maxEvents {
                state.queue = []
                state.head = 0
                state.bytes = 0
                state.finished = true
                defer { state.waiter = nil }
                return (false, state.waiter)
            }
            state.queue.append(buffer)
            state.bytes += buffer.readableBytes
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume()
        return accepted
    }

    /// Ends the stream after what is queued (with `error`, if given).
    func finish(throwing error: (any Error)? = nil) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.finished = true
            if state.error == nil { state.error = error }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Bytes waiting for the client.
    var queuedBytes: Int { state.withLock { $0.bytes } }

    enum Step {
        case element(ByteBuffer)
        case end((any Error)?)
        case wait
    }

    /// Takes the next element, or tells the consumer to wait or stop. Single consumer.
    func take() -> Step {
        state.withLock { state in
            if state.head < state.queue.count {
                let element = state.queue[state.head]
                state.head += 1
                state.bytes -= element.readableBytes
                if state.head == state.queue.count {
                    state.queue.removeAll(keepingCapacity: true)
                    state.head = 0
                }
                return .element(element)
            }
            if state.finished { return .end(state.error) }
            return .wait
        }
    }

    /// Returns when an element or the end is there, or the calling task is cancelled.
    func waitForElement() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if state.head < state.queue.count || state.finished || Task.isCancelled { return true }
                    state.waiter = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let buffer: WatchBuffer

        mutating func next() async throws -> ByteBuffer? {
            while true {
                switch buffer.take() {
                case .element(let element): return element
                case .end(let error?): throw error
                case .end(nil): return nil
                case .wait:
                    if Task.isCancelled { return nil }
                    await buffer.waitForElement()
                }
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(buffer: self) }
}
