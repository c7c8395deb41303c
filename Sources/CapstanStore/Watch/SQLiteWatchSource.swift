import Foundation
import Synchronization

/// One watch on the SQLite store. It is in one of two modes:
/// - catching up: events come from the revision log, a bounded chunk per
///   ``next()``, until the watcher reaches the hub's published revision;
/// - live: the hub appends new events to a bounded buffer.
/// When the live buffer overflows (the consumer is slower than the writers),
/// the buffer is dropped and the watcher goes back to catching up from the
/// first revision it has not delivered, so memory stays bounded and no event
/// is lost or repeated. It is cancelled only when that revision has been
/// compacted meanwhile.
final class SQLiteWatchSource: WatchSource, @unchecked Sendable {
    // @unchecked: every mutable field lives in `state` (a Mutex); `reader`
    // borrows a pooled connection per chunk.

    enum Mode {
        /// Next rows to read: revision >= `revision` and rowid > `afterRow`.
        case catchingUp(revision: Revision, afterRow: Int64)
        case live
    }

    struct State {
        var mode: Mode
        var pending: [Event] = []
        var pendingBytes = 0
        var progressRequested = false
        var ended = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    static let chunkSize = 1000

    let id: Int
    let request: WatchRequest
    private let hub: WatchHub
    private let readers: SQLiteReaderPool
    private let bufferLimit: WatchBufferLimit
    private let state: Mutex<State>

    init(id: Int, request: WatchRequest, startRevision: Revision, hub: WatchHub, readers: SQLiteReaderPool, bufferLimit: WatchBufferLimit) {
        self.id = id
        self.request = request
        self.hub = hub
        self.readers = readers
        self.bufferLimit = bufferLimit
        // Every watch starts by catching up (possibly from an empty range of
        // history): the switch to live happens in `next()` under the lock that
        // `offer` takes, after registration, so no revision falls in between.
        state = Mutex(State(mode: .catchingUp(revision: startRevision, afterRow: 0)))
    }

    // MARK: Producer side (writer thread)

    func offer(_ events: [Event], revision: Revision) {
        guard revision >= request.startRevision || request.startRevision == 0 else { return }
        let matching = events.filter { request.range.contains($0.kv.key) }
        guard !matching.isEmpty else { return }
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.ended, case .live = state.mode else { return nil }
            state.pending += matching
            state.pendingBytes += matching.reduce(0) { $0 + $1.kv.key.count + $1.kv.value.count + ($1.previous?.value.count ?? 0) }
            if state.pending.count > bufferLimit.events || state.pendingBytes > bufferLimit.bytes {
                let first = state.pending[0].revision
                state.pending = []
                state.pendingBytes = 0
                state.mode = .catchingUp(revision: first, afterRow: 0)
            }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func close() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.ended = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    // MARK: Consumer side

    func requestProgress() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.progressRequested = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func cancel() {
        close()
        hub.remove(id)
    }

    func next() async throws(StoreError) -> WatchBatch? {
        while !Task.isCancelled {
            enum Step {
                case deliver(WatchBatch)
                case end
                case wait
                case again
                case catchUp(revision: Revision, afterRow: Int64, target: Revision)
            }
            let step = state.withLock { state -> Step in
                if state.ended { return .end }
                switch state.mode {
                case .live:
                    if !state.pending.isEmpty {
                        let events = state.pending
                        state.pending = []
                        state.pendingBytes = 0
                        return .deliver(WatchBatch(events: events, headerRevision: events[events.count - 1].revision))
                    }
                    if state.progressRequested {
                        state.progressRequested = false
                        return .deliver(WatchBatch(events: [], headerRevision: hub.delivered.load(ordering: .sequentiallyConsistent)))
                    }
                    return .wait
                case .catchingUp(let revision, let afterRow):
                    let target = hub.published.load(ordering: .sequentiallyConsistent)
                    if revision > target {
                        state.mode = .live
                        return .again
                    }
                    return .catchUp(revision: revision, afterRow: afterRow, target: target)
                }
            }
            switch step {
            case .end:
                return nil
            case .deliver(let batch):
                return batch
            case .again:
                continue
            case .wait:
                await waitForWork()
            case .catchUp(let revision, let afterRow, let target):
                if let batch = try catchUp(from: revision, afterRow: afterRow, through: target) { return batch }
            }
        }
        cancel()
        return nil
    }

    private func waitForWork() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    let ready: Bool
                    switch state.mode {
                    case .catchingUp: ready = true
                    case .live: ready = !state.pending.isEmpty || state.progressRequested
                    }
                    if ready || state.ended || Task.isCancelled { return true }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }

    /// Reads the next chunk of history; `nil` if there was none (the caller
    /// loops and goes live once nothing more was published meanwhile).
    private func catchUp(from revision: Revision, afterRow: Int64, through target: Revision) throws(StoreError) -> WatchBatch? {
        let chunk = try readers.read { db throws(StoreError) in
            try HistoryReader.events(
                db, range: request.range, from: revision, afterRow: afterRow, through: target,
                includePrevious: request.includePrevious, limit: Self.chunkSize)
        }
        if let compactRevision = chunk.compactedAt {
            state.withLock { $0.ended = true }
            hub.remove(id)
            return WatchBatch(
                events: [], headerRevision: target,
                cancellation: WatchCancellation(reason: "mvcc: required revision has been compacted", compactRevision: compactRevision))
        }
        let proceed = state.withLock { state -> Bool in
            guard !state.ended, case .catchingUp = state.mode else { return false }
            if let last = chunk.lastRow {
                state.mode = .catchingUp(revision: last.revision, afterRow: last.row)
            } else {
                state.mode = .catchingUp(revision: target + 1, afterRow: 0)
            }
            return true
        }
        guard proceed, !chunk.events.isEmpty else { return nil }
        let last = chunk.events[chunk.events.count - 1].revision
        return WatchBatch(events: chunk.events, headerRevision: chunk.complete ? target : last)
    }
}

/// How much a live watcher may buffer before it falls back to catching up
/// from the revision log.
public struct WatchBufferLimit: Sendable, Hashable {
    public var events: Int
    public var bytes: Int

    public init(events: Int = 10_000, bytes: Int = 64 << 20) {
        self.events = events
        self.bytes = bytes
    }
}
