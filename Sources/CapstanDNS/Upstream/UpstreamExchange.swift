import NIOCore
import NIOPosix

/// Why one exchange with one upstream server produced no answer.
enum UpstreamError: Error, Hashable {
    /// No matching response within the timeout.
    case timedOut(UpstreamServer)
    /// The server's host is not an IP literal NIO can address.
    case badAddress(UpstreamServer)
    /// The connection closed before a response arrived.
    case closed(UpstreamServer)
}

/// One query sent to one upstream server and the response that matches it, over UDP or TCP.
///
/// A response counts only if it comes from the server asked (UDP), carries the query's id and QR, and
/// repeats its question; anything else is ignored, so a spoofed or stray packet cannot answer a query.
struct UpstreamExchange: Sendable {
    let server: UpstreamServer
    let query: DNSMessage
    let timeout: Duration
    let group: any EventLoopGroup

    func overUDP() async throws -> DNSMessage {
        let address = try socketAddress()
        let eventLoop = group.next()
        let promise = eventLoop.makePromise(of: DNSMessage.self)
        let query = query
        let localHost = address.protocol == .inet6 ? "::" : "0.0.0.0"
        // A fresh socket per query gets a fresh random source port, which is half of what stops spoofing.
        let channel = try await DatagramBootstrap(group: eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UDPResponseHandler(query: query, server: address, promise: promise))
                }
            }
            .bind(host: localHost, port: 0).get()
        defer { channel.close(promise: nil) }
        let envelope = AddressedEnvelope(remoteAddress: address, data: ByteBuffer(bytes: query.encoded()))
        channel.writeAndFlush(envelope).cascadeFailure(to: promise)
        return try await awaitResponse(promise, on: eventLoop)
    }

    func overTCP() async throws -> DNSMessage {
        let address = try socketAddress()
        let eventLoop = group.next()
        let promise = eventLoop.makePromise(of: DNSMessage.self)
        let query = query
        let server = server
        let channel = try await ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(timeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(TCPFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(TCPFrameEncoder()))
                    try channel.pipeline.syncOperations.addHandler(TCPResponseHandler(query: query, server: server, promise: promise))
                }
            }
            .connect(to: address).get()
        defer { channel.close(promise: nil) }
        channel.writeAndFlush(ByteBuffer(bytes: query.encoded())).cascadeFailure(to: promise)
        return try await awaitResponse(promise, on: eventLoop)
    }

    private func socketAddress() throws -> SocketAddress {
        do {
            return try SocketAddress(ipAddress: server.host, port: server.port)
        } catch {
            throw UpstreamError.badAddress(server)
        }
    }

    /// Waits for the handler to fulfil `promise`, failing it at the timeout or when the task is cancelled.
    private func awaitResponse(_ promise: EventLoopPromise<DNSMessage>, on eventLoop: any EventLoop) async throws -> DNSMessage {
        let server = server
        let timer = eventLoop.scheduleTask(in: TimeAmount(timeout)) { promise.fail(UpstreamError.timedOut(server)) }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            promise.fail(CancellationError())
        }
    }
}

extension DNSMessage {
    /// Whether this is the response to `query`: same id, QR set, same question (name case aside).
    func answers(_ query: DNSMessage) -> Bool {
        header.id == query.header.id && header.isResponse && questions == query.questions
    }
}

private final class UDPResponseHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let query: DNSMessage
    private let server: SocketAddress
    private let promise: EventLoopPromise<DNSMessage>

    init(query: DNSMessage, server: SocketAddress, promise: EventLoopPromise<DNSMessage>) {
        self.query = query
        self.server = server
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = Self.unwrapInboundIn(data)
        guard envelope.remoteAddress == server,
            let response = try? DNSMessage(decoding: Array(envelope.data.readableBytesView)), response.answers(query)
        else { return }
        promise.succeed(response)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable and the like: this server will not answer.
        promise.fail(error)
    }
}

private final class TCPResponseHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let query: DNSMessage
    private let server: UpstreamServer
    private let promise: EventLoopPromise<DNSMessage>

    init(query: DNSMessage, server: UpstreamServer, promise: EventLoopPromise<DNSMessage>) {
        self.query = query
        self.server = server
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        guard let response = try? DNSMessage(decoding: Array(frame.readableBytesView)), response.answers(query) else { return }
        promise.succeed(response)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(UpstreamError.closed(server))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}
