import NIOCore
import NIOHTTP1

/// One request on a connection and where its response goes.
///
/// Written into the channel as one outbound message: ``HTTPExchangeHandler``
/// remembers the sink, writes the request parts, and feeds the response to
/// the sink until its end (or until the connection fails).
struct HTTPExchange: Sendable {
    var head: HTTPRequestHead
    var body: ByteBuffer?
    var sink: Sink

    enum Sink: Sendable {
        /// The whole response, once it has ended (ordinary requests).
        case collect(EventLoopPromise<CollectedResponse>, maxBytes: Int)
        /// Each part as it arrives (watches).
        case stream(AsyncThrowingStream<HTTPClientResponsePart, any Error>.Continuation)
    }
}

/// A complete response: status, headers and body.
struct CollectedResponse: Sendable {
    var head: HTTPResponseHead
    var body: ByteBuffer

    var status: Int { Int(head.status.code) }
    var bytes: [UInt8] { Array(body.readableBytesView) }
}

/// Why a connection could not deliver a response. ``HTTPClusterClient``
/// turns it into a ``HTTPClusterClient/TransportError`` naming the server.
enum ExchangeFailure: Error, Sendable {
    /// The connection closed or failed before any byte of the response came:
    /// on a reused keep-alive connection, the request can go again on a new one.
    case closedBeforeResponse(underlying: String?)
    /// The connection closed or failed in the middle of the response.
    case closedMidResponse(underlying: String?)
    /// The response was larger than the client accepts.
    case tooLarge(Int)
    /// A second request was written while one was in flight (a pool bug; never expected).
    case busy
}

/// The last handler of a client pipeline: one exchange at a time, HTTP/1.1 keep-alive.
final class HTTPExchangeHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPExchange
    typealias OutboundOut = HTTPClientRequestPart

    private var sink: HTTPExchange.Sink?
    private var head: HTTPResponseHead?
    private var body: ByteBuffer?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        guard sink == nil else {
            Self.fail(exchange.sink, ExchangeFailure.busy)
            promise?.fail(ExchangeFailure.busy)
            return
        }
        guard context.channel.isActive else {
            // Closed while idle in the pool: say so now, nothing will come.
            Self.fail(exchange.sink, ExchangeFailure.closedBeforeResponse(underlying: "the connection was already closed"))
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        sink = exchange.sink
        head = nil
        body = nil
        context.write(wrapOutboundOut(.head(exchange.head)), promise: nil)
        if let body = exchange.body, body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        // A failed write fails the exchange too: no response will come for it.
        let written = context.eventLoop.makePromise(of: Void.self)
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        written.futureResult.whenComplete { result in
            if case .failure(let error) = result { handler.value.failPending("\(error)") }
            promise?.completeWith(result)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        guard let sink else {
            // A response nobody asked for: the connection is out of step; drop it.
            context.close(promise: nil)
            return
        }
        switch sink {
        case .collect(let promise, let maxBytes):
            switch part {
            case .head(let head):
                self.head = head
                body = context.channel.allocator.buffer(capacity: 0)
            case .body(var chunk):
                if (body?.readableBytes ?? 0) + chunk.readableBytes > maxBytes {
                    self.sink = nil
                    promise.fail(ExchangeFailure.tooLarge(maxBytes))
                    context.close(promise: nil)
                    return
                }
                body?.writeBuffer(&chunk)
            case .end:
                self.sink = nil
                if let head {
                    promise.succeed(CollectedResponse(head: head, body: body ?? ByteBuffer()))
                } else {
                    promise.fail(ExchangeFailure.closedBeforeResponse(underlying: "a response ended before its head"))
                }
            }
        case .stream(let continuation):
            if case .head(let head) = part { self.head = head }
            continuation.yield(part)
            if case .end = part {
                self.sink = nil
                continuation.finish()
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failPending(nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failPending("\(error)")
        context.close(promise: nil)
    }

    private func failPending(_ reason: String?) {
        guard let sink else { return }
        self.sink = nil
        Self.fail(
            sink, head == nil ? ExchangeFailure.closedBeforeResponse(underlying: reason) : ExchangeFailure.closedMidResponse(underlying: reason))
    }

    private static func fail(_ sink: HTTPExchange.Sink, _ error: ExchangeFailure) {
        switch sink {
        case .collect(let promise, _): promise.fail(error)
        case .stream(let continuation): continuation.finish(throwing: error)
        }
    }
}
