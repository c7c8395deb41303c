import AsyncAlgorithms
import EtcdAPI
import GRPCCore
import ServiceLifecycle
import Synchronization

/// etcd's `Watch` service over any ``Store``: many watches multiplexed on
/// one bidirectional stream. Each watch is pumped by its own task into one
/// channel that a single task writes to the stream; the channel has no
/// buffer, so a slow client slows only its own pumps, and the store side
/// never waits on it (see ``SQLiteWatchSource``).
struct EtcdWatchService: Etcdserverpb_Watch.SimpleServiceProtocol {
    let store: any Store
    /// How often watches created with `progress_notify` get a progress
    /// notification (etcd's default is 10 minutes).
    let progressNotifyInterval: Duration

    func watch(
        request: RPCAsyncSequence<Etcdserverpb_WatchRequest, any Error>,
        response: RPCWriter<Etcdserverpb_WatchResponse>,
        context: ServerContext
    ) async throws {
        try await cancelWhenShuttingDown {
            let outbox = AsyncChannel<Etcdserverpb_WatchResponse>()
            let watches = WatchTable()
            defer { watches.cancelAll() }
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask {
                    for await message in outbox { try await response.write(message) }
                }
                group.addTask {
                    while !Task.isCancelled {
                        try await Task.sleep(for: progressNotifyInterval)
                        watches.requestProgressForNotifyingWatches()
                    }
                }
                for try await message in request {
                    switch message.requestUnion {
                    case .createRequest(let create):
                        if let pump = await self.create(create, watches: watches, outbox: outbox) {
                            group.addTask { await pump() }
                        }
                    case .cancelRequest(let cancel):
                        guard watches.remove(cancel.watchID) != nil else { continue }
                        var answer = Etcdserverpb_WatchResponse()
                        answer.header = responseHeader(revision: (try? await store.status().revision) ?? 0)
                        answer.watchID = cancel.watchID
                        answer.canceled = true
                        await outbox.send(answer)
                    case .progressRequest:
                        watches.requestProgressForAll()
                    case nil:
                        continue
                    }
                }
                // The client closed its side: end every watch and the stream.
                watches.cancelAll()
                outbox.finish()
                group.cancelAll()
            }
        }
    }

    /// Registers one watch and returns the task that pumps its events.
    private func create(
        _ create: Etcdserverpb_WatchCreateRequest, watches: WatchTable,
        outbox: AsyncChannel<Etcdserverpb_WatchResponse>
    ) async -> (@Sendable () async -> Void)? {
        let id = watches.reserve(create.watchID)
        let currentRevision = (try? await store.status().revision) ?? 0
        var created = Etcdserverpb_WatchResponse()
        created.header = responseHeader(revision: currentRevision)
        created.watchID = id ?? create.watchID
        created.created = true
        guard let id else {
            // etcd answers a duplicate watch ID with a created-and-canceled response.
            created.canceled = true
            created.cancelReason = "etcdserver: duplicate watch ID"
            await outbox.send(created)
            return nil
        }
        let request = WatchRequest(
            KeyRange(key: create.key, rangeEnd: create.rangeEnd), startRevision: create.startRevision,
            includePrevious: create.prevKv, skipPuts: create.filters.contains(.noput),
            skipDeletes: create.filters.contains(.nodelete), progressNotify: create.progressNotify)
        let stream: WatchStream
        do {
            stream = try await store.watch(request)
        } catch {
            _ = watches.remove(id)
            created.canceled = true
            if case .compacted(_, let compactRevision) = error {
                created.compactRevision = compactRevision
            }
            created.cancelReason = ErrorMapping.rpcError(error).message
            await outbox.send(created)
            return nil
        }
        watches.attach(stream, to: id, progressNotify: create.progressNotify)
        await outbox.send(created)
        return {
            await Self.pump(stream, id: id, includePrevious: create.prevKv, watches: watches, outbox: outbox)
        }
    }

    private static func pump(
        _ stream: WatchStream, id: Int64, includePrevious: Bool, watches: WatchTable,
        outbox: AsyncChannel<Etcdserverpb_WatchResponse>
    ) async {
        do {
            while let batch = try await stream.next() {
                var message = Etcdserverpb_WatchResponse()
                message.header = responseHeader(revision: batch.headerRevision)
                message.watchID = id
                message.events = batch.events.map { $0.proto(includePrevious: includePrevious) }
                if let cancellation = batch.cancellation {
                    message.canceled = true
                    message.compactRevision = cancellation.compactRevision
                    message.cancelReason = cancellation.reason
                }
                await outbox.send(message)
                if batch.cancellation != nil { break }
            }
        } catch {
            var message = Etcdserverpb_WatchResponse()
            message.watchID = id
            message.canceled = true
            message.cancelReason = ErrorMapping.rpcError(error).message
            await outbox.send(message)
        }
        _ = watches.remove(id)
    }
}

/// The watches of one stream, by watch ID.
final class WatchTable: Sendable {
    private struct Entry {
        var stream: WatchStream?
        var progressNotify = false
    }

    private struct State {
        var entries: [Int64: Entry] = [:]
        var nextID: Int64 = 0
    }

    private let state = Mutex(State())

    /// Claims `requested` (or the next free ID if 0); `nil` if it is taken.
    func reserve(_ requested: Int64) -> Int64? {
        state.withLock { state in
            var id = requested
            if id == 0 {
                while state.entries[state.nextID] != nil { state.nextID += 1 }
                id = state.nextID
                state.nextID += 1
            } else if state.entries[id] != nil {
                return nil
            }
            state.entries[id] = Entry()
            return id
        }
    }

    func attach(_ stream: WatchStream, to id: Int64, progressNotify: Bool) {
        state.withLock { $0.entries[id] = Entry(stream: stream, progressNotify: progressNotify) }
    }

    /// Forgets and cancels one watch; `nil` if there was none.
    func remove(_ id: Int64) -> Int64? {
        let entry = state.withLock { $0.entries.removeValue(forKey: id) }
        entry?.stream?.cancel()
        return entry.map { _ in id }
    }

    func cancelAll() {
        let entries = state.withLock { state in
            defer { state.entries.removeAll() }
            return Array(state.entries.values)
        }
        for entry in entries { entry.stream?.cancel() }
    }

    func requestProgressForAll() {
        for stream in state.withLock({ $0.entries.values.compactMap(\.stream) }) { stream.requestProgress() }
    }

    func requestProgressForNotifyingWatches() {
        let streams = state.withLock { $0.entries.values.filter(\.progressNotify).compactMap(\.stream) }
        for stream in streams { stream.requestProgress() }
    }
}

/// Runs a long-lived stream handler until it ends or the server shuts down
/// gracefully (streams like Watch would otherwise hold the shutdown forever).
func cancelWhenShuttingDown(_ body: @Sendable @escaping () async throws -> Void) async throws {
    try await cancelWhenGracefulShutdown(body)
}
