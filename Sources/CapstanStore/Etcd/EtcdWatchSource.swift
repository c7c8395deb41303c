import AsyncAlgorithms
import EtcdAPI
import GRPCCore
import GRPCNIOTransportHTTP2
import Synchronization

/// One watch on a real etcd: a Watch stream carrying one watcher. Batches go
/// through a channel without buffer, so a slow consumer applies backpressure
/// to the gRPC stream (etcd then handles the slow watcher itself).
final class EtcdWatchSource: WatchSource, @unchecked Sendable {
    // @unchecked: `iterator` is used only by the single consumer of the
    // WatchStream (next() is not called concurrently); the rest is Mutex-guarded
    // or Sendable.

    private let batches = AsyncThrowingChannel<WatchBatch, any Error>()
    private var iterator: AsyncThrowingChannel<WatchBatch, any Error>.AsyncIterator
    private let commands: AsyncStream<Etcdserverpb_WatchRequest>
    private let commandSink: AsyncStream<Etcdserverpb_WatchRequest>.Continuation
    private let created = Mutex<CreationState>(.waiting(nil))
    private let watchID = Atomic<Int64>(-1)

    private enum CreationState {
        case waiting(CheckedContinuation<Result<Void, StoreError>, Never>?)
        case done(Result<Void, StoreError>)
    }

    init() {
        iterator = batches.makeAsyncIterator()
        (commands, commandSink) = AsyncStream.makeStream()
    }

    /// Runs the stream until the watch ends or is cancelled.
    func run(client: Etcdserverpb_Watch.Client<HTTP2ClientTransport.Posix>, create: Etcdserverpb_WatchRequest) async {
        do {
            try await client.watch(
                requestProducer: { [commands] writer in
                    try await writer.write(create)
                    for await command in commands { try await writer.write(command) }
                },
                onResponse: { [self] response in
                    for try await message in response.messages {
                        if message.created {
                            watchID.store(message.watchID, ordering: .relaxed)
                            if message.canceled {
                                let error: StoreError =
                                    message.compactRevision > 0
                                    ? .compacted(requested: create.createRequest.startRevision, compactRevision: message.compactRevision)
                                    : .backend(reason: "etcd refused the watch: \(message.cancelReason)")
                                finishCreation(.failure(error))
                                return
                            }
                            finishCreation(.success(()))
                            continue
                        }
                        let cancellation =
                            message.canceled
                            ? WatchCancellation(reason: message.cancelReason, compactRevision: message.compactRevision) : nil
                        let batch = WatchBatch(
                            events: message.events.map(Event.init), headerRevision: message.header.revision,
                            cancellation: cancellation)
                        await batches.send(batch)
                        if cancellation != nil { return }
                    }
                })
            finishCreation(.failure(.closed))
            batches.finish()
        } catch {
            finishCreation(.failure(ErrorMapping.storeError(error)))
            batches.fail(error)
        }
    }

    func waitUntilCreated(requested: Revision) async throws(StoreError) {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, StoreError>, Never>) in
            let ready = created.withLock { state -> Result<Void, StoreError>? in
                switch state {
                case .waiting:
                    state = .waiting(continuation)
                    return nil
                case .done(let result): return result
                }
            }
            if let ready { continuation.resume(returning: ready) }
        }
        try result.get()
    }

    private func finishCreation(_ result: Result<Void, StoreError>) {
        let waiter = created.withLock { state -> CheckedContinuation<Result<Void, StoreError>, Never>? in
            guard case .waiting(let waiter) = state else { return nil }
            state = .done(result)
            return waiter
        }
        waiter?.resume(returning: result)
    }

    func next() async throws(StoreError) -> WatchBatch? {
        do {
            return try await iterator.next()
        } catch {
            throw ErrorMapping.storeError(error)
        }
    }

    func requestProgress() {
        var message = Etcdserverpb_WatchRequest()
        message.progressRequest = Etcdserverpb_WatchProgressRequest()
        commandSink.yield(message)
    }

    /// Closing the request side ends the stream; etcd then drops the watcher.
    func cancel() {
        commandSink.finish()
        batches.finish()
    }
}
