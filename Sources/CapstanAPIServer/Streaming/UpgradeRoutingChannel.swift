import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore

/// HTTP/1.1 connections that become WebSockets only when they start with a
/// WebSocket upgrade request (`kubectl exec`), and are otherwise Hummingbird's
/// plain HTTP/1.1 channel.
///
/// hummingbird-websocket's channel alone would do for the upgrade, but it runs
/// every connection through NIO's typed upgrade handler, which (NIO 2.101)
/// drops a request asking for any other upgrade — kubectl's SPDY fallback
/// for exec, or `Upgrade: h2c` — and answers nothing. Routing on the first
/// request head keeps every non-WebSocket request on the plain channel, where
/// such headers are ignored and ``APIResponder`` answers. A WebSocket upgrade
/// on a connection that already served a request gets the plain channel's
/// answer; clients (gorilla/websocket in kubectl) dial a new connection for it.
struct UpgradeRoutingChannel: ServerChildChannel {
    let plain: HTTP1Channel
    let upgrading: HTTP1WebSocketUpgradeChannel

    enum Route: Sendable {
        case plain(HTTP1Channel.Value)
        case upgrading(HTTP1WebSocketUpgradeChannel.Value)
    }

    struct Value: ServerChildChannelValue {
        /// Completes once the first request head has been seen and the pipeline built for it.
        let route: EventLoopFuture<Route>
        let channel: any Channel
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let promise = channel.eventLoop.makePromise(of: Route.self)
            let plain = self.plain
            let upgrading = self.upgrading
            let sniffer = FirstRequestSniffer(promise: promise) { webSocket in
                webSocket
                    ? upgrading.setup(channel: channel, logger: logger).map { Route.upgrading($0) }
                    : plain.setup(channel: channel, logger: logger).map { Route.plain($0) }
            }
            try channel.pipeline.syncOperations.addHandler(sniffer)
            return Value(route: promise.futureResult, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.route.get() {
            case .plain(let http): await plain.handle(value: http, logger: logger)
            case .upgrading(let webSocket): await upgrading.handle(value: webSocket, logger: logger)
            }
        } catch {
            // The client left, or sent something that is not HTTP, before a whole request head.
            logger.trace("connection closed before its first request", metadata: ["error": "\(error)"])
            try? await value.channel.close()
        }
    }
}

/// Holds a connection's first bytes until its first request head is whole,
/// has the pipeline built for it (WebSocket upgrade or plain HTTP), then
/// passes the bytes on and leaves the pipeline.
final class FirstRequestSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// A head longer than this is left for the HTTP decoder to refuse.
    static let maxHeadBytes = 80 * 1024

    private let promise: EventLoopPromise<UpgradeRoutingChannel.Route>
    private let build: (Bool) -> EventLoopFuture<UpgradeRoutingChannel.Route>
    private var buffered: ByteBuffer?
    private var routed = false

    init(promise: EventLoopPromise<UpgradeRoutingChannel.Route>, build: @escaping (Bool) -> EventLoopFuture<UpgradeRoutingChannel.Route>) {
        self.promise = promise
        self.build = build
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !routed else { return context.fireChannelRead(data) }
        var incoming = unwrapInboundIn(data)
        if buffered == nil {
            buffered = incoming
        } else {
            buffered!.writeBuffer(&incoming)
        }
        guard let bytes = buffered else { return }
        let view = Array(bytes.readableBytesView)
        if let end = view.firstRange(of: [13, 10, 13, 10]) {
            route(context, webSocket: Self.asksForWebSocket(view[..<end.lowerBound]))
        } else if bytes.readableBytes > Self.maxHeadBytes {
            route(context, webSocket: false)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if routed { context.fireChannelReadComplete() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !routed { promise.fail(ChannelError.eof) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !routed { promise.fail(error) }
        context.fireErrorCaught(error)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !routed, let event = event as? ChannelEvent, event == .inputClosed {
            promise.fail(ChannelError.inputClosed)
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func route(_ context: ChannelHandlerContext, webSocket: Bool) {
        routed = true
        let built = build(webSocket)
        // Both builders configure the pipeline synchronously (completed futures).
        built.cascade(to: promise)
        if let bytes = buffered {
            buffered = nil
            context.fireChannelRead(wrapInboundOut(bytes))
            context.fireChannelReadComplete()
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    /// Whether a request head carries `Upgrade: websocket`.
    static func asksForWebSocket(_ head: ArraySlice<UInt8>) -> Bool {
        let text = String(decoding: head, as: UTF8.self)
        for line in text.split(separator: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            guard line[..<colon].trimmingCharacters(in: .whitespaces).lowercased() == "upgrade" else { continue }
            if line[line.index(after: colon)...].lowercased().contains("websocket") { return true }
        }
        return false
    }
}
