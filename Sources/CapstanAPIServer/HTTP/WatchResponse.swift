import CapstanAPI
import CapstanCore
import CoreMetrics
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

extension APIResponder {
    /// A watch as a chunked stream of JSON lines, one event per line.
    ///
    /// The store feed runs only while the body is being written: it starts
    /// with the write and is cancelled when the client goes away, the watch
    /// times out, the server shuts down, or the client stops reading long
    /// enough to fill the watch's ``WatchBuffer`` (then the watch is closed and
    /// counted in `apiserver_terminated_watchers_total`).
    func watch(_ info: KindInfo, _ namespace: String?, _ options: ListOptions, table: Bool) -> Response {
        let registry = self.registry
        let limits = self.limits
        let metrics = self.metrics
        let logger = self.logger
        let timeout = options.timeoutSeconds ?? 1800
        let body = ResponseBody { writer in
            let buffer = WatchBuffer(maxBytes: limits.watchBacklogBytes, maxEvents: limits.watchBacklogEvents)
            // Nothing is written while no event comes, so a client that left is noticed here.
            ClientConnection.departed?.whenComplete { _ in buffer.finish() }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        // A server shutting down ends its watches, as Kubernetes' does; clients re-watch.
                        try await cancelWhenGracefulShutdown {
                            try await Self.produceWatchLines(
                                registry: registry, info: info, namespace: namespace, options: options, table: table, timeout: timeout, into: buffer)
                        }
                        buffer.finish()
                    } catch is SlowWatcher {
                        metrics.terminatedWatchers[[info.group, info.resource]].increment()
                        logger.notice(
                            "closed a watch whose client stopped reading",
                            metadata: ["resource": "\(info.resource)", "limitBytes": "\(limits.watchBacklogBytes)"])
                    } catch {
                        buffer.finish(throwing: error)
                    }
                }
                defer { group.cancelAll() }
                try await writer.write(buffer)
                try await writer.finish(nil)
            }
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: body)
    }

    /// The client fell too far behind; its watch ends.
    struct SlowWatcher: Error {}

    private static func produceWatchLines(
        registry: ResourceRegistry, info: KindInfo, namespace: String?, options: ListOptions, table: Bool, timeout: Int,
        into buffer: WatchBuffer
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    try await registry.watch(info, namespace: namespace, options: options) { event in
                        var event = event
                        if table, event.type != .bookmark, event.type != .error {
                            event.object = Tables.table(for: info, registry.catalog, objects: [event.object], resourceVersion: nil, now: Date())
                        }
                        var bytes = JSONSerializer.bytes(event.json)
                        bytes.append(UInt8(ascii: "\n"))
                        guard buffer.push(ByteBuffer(bytes: bytes)) else { throw SlowWatcher() }
                    }
                } catch let error as APIError {
                    // The 200 head is already sent, so a refusal (a resourceVersion compacted
                    // away: 410 Gone) is told as an ERROR event, as Kubernetes does, and the
                    // stream ends cleanly; clients list again instead of seeing a broken stream.
                    var bytes = JSONSerializer.bytes(WatchEvent(type: .error, object: error.status).json)
                    bytes.append(UInt8(ascii: "\n"))
                    _ = buffer.push(ByteBuffer(bytes: bytes))
                }
            }
            group.addTask { try await Task.sleep(for: .seconds(timeout)) }
            // Whichever ends first (the watch, or its timeout) ends both.
            _ = try await group.next()
            group.cancelAll()
        }
    }
}
