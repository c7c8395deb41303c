import CapstanAPI
import CapstanCore
import Foundation
import Hummingbird
import Logging
import NIOCore

extension APIResponder {
    /// `GET pods/NAME/log`, and `pods/NAME/exec` requests that were not upgraded
    /// to a WebSocket (see ``ExecWebSocket``); nil for every other path.
    func podStreamingEndpoint(_ request: Request, context: Context) async throws -> Response? {
        guard let path = ResourcePath(request.uri.path), path.group == "", path.version == "v1", path.resource == "pods",
            let name = path.name, let subresource = path.subresource, subresource == "log" || subresource == "exec"
        else { return nil }
        guard let namespace = path.namespace else {
            throw APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource")
        }
        let query = QueryItems(request.uri.query)
        switch (request.method, subresource) {
        case (.get, "log"):
            return try await podLog(namespace: namespace, name: name, query: query, channel: context.channel)
        case (.get, "exec"), (.post, "exec"):
            let (target, _) = try await PodStreamingRequests.exec(registry: registry, namespace: namespace, name: name, query: query)
            guard podStreaming != nil else { throw APIError.noNodeAgent("exec sessions", pod: target.pod.name) }
            if (request.headers[.upgrade] ?? "").lowercased().hasPrefix("spdy") {
                throw APIError.badRequest(
                    "Capstan serves exec over WebSocket (\(ExecWebSocket.protocols.joined(separator: ", "))), not SPDY: kubectl 1.30 or later uses it by default"
                )
            }
            throw APIError.badRequest("exec needs a WebSocket upgrade with subprotocol \(ExecWebSocket.protocols.joined(separator: " or "))")
        default:
            throw APIError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
    }

    /// The container's log as `text/plain`, streamed in chunks as the node gives them.
    private func podLog(namespace: String, name: String, query: QueryItems, channel: any Channel) async throws -> Response {
        var options = try PodLogOptions(query: query, container: "", pod: name)
        let pod = try await registry.get(BuiltinKinds.pod, namespace: namespace, name: name)
        let target = try PodStreamTarget(pod: pod, namespace: namespace, name: name, container: query["container"])
        options.container = target.container
        guard let backend = podStreaming else { throw APIError.noNodeAgent("logs", pod: name) }
        let upstream: AsyncThrowingStream<[UInt8], any Error>
        do {
            upstream = try await backend.logs(node: target.node, pod: target.pod, options: options)
        } catch let error as PodStreamingError {
            throw APIError.podStreaming(error, pod: name)
        }
        let logger = self.logger
        let limit = options.limitBytes
        let body = ResponseBody { writer in
            // A follow that waits for output would otherwise notice a departed client only at its next line.
            let departure = ClientDeparture(channel: channel)
            defer { departure.remove() }
            var remaining = limit ?? Int.max
            do {
                for try await chunk in LogRelay.relay(upstream, until: departure.departed) where !chunk.isEmpty {
                    let part = chunk.count > remaining ? Array(chunk.prefix(remaining)) : chunk
                    try await writer.write(ByteBuffer(bytes: part))
                    remaining -= part.count
                    if remaining <= 0 { break }
                }
            } catch let error as PodStreamingError {
                // The status line is sent; the stream just ends, as the kubelet's would.
                logger.notice("pod log stream ended early", metadata: ["pod": "\(target.pod)", "error": "\(error)"])
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/plain"], body: body)
    }
}

/// Lookups shared by the HTTP endpoints and the WebSocket upgrade.
enum PodStreamingRequests {
    /// The exec target and options of a request, checked in Kubernetes' order
    /// (pod, container, node), then the options.
    static func exec(registry: ResourceRegistry, namespace: String, name: String, query: QueryItems) async throws(APIError) -> (
        PodStreamTarget, PodExecOptions
    ) {
        let pod = try await registry.get(BuiltinKinds.pod, namespace: namespace, name: name)
        let target = try PodStreamTarget(pod: pod, namespace: namespace, name: name, container: query["container"])
        return (target, try PodExecOptions(query: query, container: target.container))
    }
}

/// Moves a log stream's chunks to the HTTP writer and ends early when the
/// client goes away: the source is then cancelled, which tells the node to
/// stop following. Chunks queued while the writer waits for the client are
/// sent together, and the source waits while 1 MiB is queued.
enum LogRelay {
    static func relay(
        _ upstream: AsyncThrowingStream<[UInt8], any Error>, until departed: EventLoopFuture<Void>
    ) -> LogPipe {
        let pipe = LogPipe(limit: 1 << 20)
        let producer = Task {
            do {
                for try await chunk in upstream {
                    guard await pipe.send(chunk) else { break }
                }
                pipe.finish()
            } catch {
                pipe.finish(throwing: error)
            }
        }
        departed.whenComplete { _ in
            producer.cancel()
            pipe.finish()
        }
        pipe.onReaderGone = { producer.cancel() }
        return pipe
    }
}
