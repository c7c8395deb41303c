public import CapstanAPI
public import CapstanCore
import NIOCore
import NIOHTTP1
import Synchronization

extension HTTPClusterClient {
    /// A watch over its own connection: a chunked stream of `{"type":…,"object":…}` lines.
    ///
    /// A refused watch (403, 429, a bad selector) throws its `APIError`; an
    /// `ERROR` event (410 Gone for a compacted resourceVersion) is delivered
    /// as an event, and the server ends the stream after it. When the consumer
    /// stops iterating or its task is cancelled, the connection is closed and
    /// the sequence ends without an error.
    public func watch(_ kind: KindInfo, namespace: String?, options: ListOptions) -> WatchEvents {
        var request = APIRequest(method: .GET, path: APIRequest.path(kind, namespace: namespace))
        request.add(options)
        request.query.append(("watch", "true"))
        if options.allowWatchBookmarks { request.query.append(("allowWatchBookmarks", "true")) }
        let (events, continuation) = WatchEvents.makeStream(bufferingPolicy: .unbounded)
        // The producer is owned by the stream: dropping or cancelling the consumer cancels it.
        let producer = Task {
            do {
                try await self.stream(request, into: continuation)
                continuation.finish()
            } catch is CancellationError {
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in producer.cancel() }
        return events
    }

    private func stream(_ request: APIRequest, into events: WatchEvents.Continuation) async throws {
        let what = "watch \(request.path)"
        var status = 0
        var refusal: [UInt8] = []
        var lines = WatchLineDecoder(maxLineBytes: configuration.maxResponseBytes)
        try await streamResponse(request, what: what) { part in
            switch part {
            case .head(let head):
                status = Int(head.status.code)
            case .body(let buffer):
                if status != 200 {
                    if refusal.count < 1 << 20 { refusal += buffer.readableBytesView }
                    return
                }
                guard let complete = lines.push(buffer) else {
                    throw TransportError(server: connector.server, "\(what): an event line is longer than \(configuration.maxResponseBytes) bytes")
                }
                for line in complete { events.yield(try event(line, what)) }
            case .end:
                if status != 200 {
                    throw StatusError.apiError(status: status, body: refusal, method: "GET", path: request.path)
                }
                if let last = lines.finish() { events.yield(try event(last, what)) }
            }
        }
    }

    /// Sends `request` on a connection of its own and hands each part of the
    /// response to `handle` as it arrives, until the response ends. The head must
    /// come within the request timeout; after it, a quiet stream (a watch, a
    /// followed log) is a normal one. Cancellation closes the connection.
    func streamResponse(_ request: APIRequest, what: String, _ handle: (HTTPClientResponsePart) throws -> Void) async throws {
        try Task.checkCancellation()
        let channel = try await connector.connect()
        watchConnections.add(1, ordering: .sequentiallyConsistent)
        let counter = self
        channel.closeFuture.whenComplete { _ in counter.watchConnections.subtract(1, ordering: .sequentiallyConsistent) }
        defer { channel.close(promise: nil) }
        let (parts, sink) = AsyncThrowingStream<HTTPClientResponsePart, any Error>.makeStream()
        let timedOut = Flag()
        let headTimer = channel.eventLoop.scheduleTask(in: configuration.requestTimeout.timeAmount) {
            timedOut.set()
            channel.close(promise: nil)
        }
        defer { headTimer.cancel() }
        try await withTaskCancellationHandler {
            // As for ordinary requests: a write that never reached the handler ends the parts here.
            channel.writeAndFlush(HTTPExchange(head: head(request), body: request.body.map { ByteBuffer(bytes: $0) }, sink: .stream(sink)))
                .whenFailure { error in
                    sink.finish(throwing: ExchangeFailure.closedBeforeResponse(underlying: "\(error)"))
                }
            do {
                for try await part in parts {
                    if case .head = part { headTimer.cancel() }
                    try handle(part)
                    if case .end = part { return }
                }
            } catch let failure as ExchangeFailure {
                if Task.isCancelled { throw CancellationError() }
                if timedOut.isSet {
                    throw TransportError(server: connector.server, "\(what): no answer within \(configuration.requestTimeout)")
                }
                throw transportError(failure, request)
            }
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    /// One line of the stream as a ``WatchEvent``; anything else is the server's fault, reported as such.
    private func event(_ line: [UInt8], _ what: String) throws -> WatchEvent {
        let value: JSONValue
        do {
            value = try JSONParser().parse(line)
        } catch {
            throw TransportError(
                server: connector.server, "\(what): an event is not JSON (\(error)): \(String(decoding: line.prefix(200), as: UTF8.self))")
        }
        guard let name = value["type"]?.stringValue, let type = WatchEvent.EventType(rawValue: name), let object = value["object"],
            case .object = object
        else {
            throw TransportError(server: connector.server, "\(what): not a watch event: \(String(decoding: line.prefix(200), as: UTF8.self))")
        }
        return WatchEvent(type: type, object: object)
    }
}

/// Splits a watch body into lines, whatever the chunk boundaries.
struct WatchLineDecoder {
    let maxLineBytes: Int
    private var pending: [UInt8] = []

    init(maxLineBytes: Int) {
        self.maxLineBytes = maxLineBytes
    }

    /// The lines this chunk completes (blank ones skipped); nil when a line grows past the limit.
    mutating func push(_ buffer: ByteBuffer) -> [[UInt8]]? {
        var lines: [[UInt8]] = []
        for byte in buffer.readableBytesView {
            if byte == UInt8(ascii: "\n") {
                if pending.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") }) { lines.append(pending) }
                pending.removeAll(keepingCapacity: true)
            } else {
                pending.append(byte)
                if pending.count > maxLineBytes { return nil }
            }
        }
        return lines
    }

    /// What is left after the last newline, if anything.
    mutating func finish() -> [UInt8]? {
        defer { pending.removeAll() }
        return pending.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") }) ? pending : nil
    }
}
