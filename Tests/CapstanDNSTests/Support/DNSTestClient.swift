import NIOCore
import NIOPosix

@testable import CapstanDNS

/// Why a test exchange produced nothing.
enum TestClientError: Error {
    case timedOut
    case closed
}

/// Minimal UDP and TCP DNS clients for loopback tests: each waits for a response with a bound, never sleeps.
enum DNSTestClient {
    static let group = MultiThreadedEventLoopGroup.singleton

    /// Sends `packet` to 127.0.0.1:`port` over UDP and returns the first datagram that comes back.
    static func udp(_ packet: [UInt8], port: Int, timeout: TimeAmount = .seconds(30)) async throws -> [UInt8] {
        let eventLoop = group.next()
        let promise = eventLoop.makePromise(of: [UInt8].self)
        let channel = try await DatagramBootstrap(group: eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(FirstDatagram(promise: promise)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { channel.close(promise: nil) }
        let timer = eventLoop.scheduleTask(in: timeout) { promise.fail(TestClientError.timedOut) }
        defer { timer.cancel() }
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: port)
        try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: ByteBuffer(bytes: packet)))
        return try await promise.futureResult.get()
    }

    /// Sends a query over UDP and decodes the response.
    static func udp(_ query: DNSMessage, port: Int, timeout: TimeAmount = .seconds(30)) async throws -> DNSMessage {
        try DNSMessage(decoding: try await udp(query.encoded(), port: port, timeout: timeout))
    }

    /// Sends every packet over UDP from one socket without waiting for answers.
    static func udpBlast(_ packets: [[UInt8]], port: Int) async throws {
        let channel = try await DatagramBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        defer { channel.close(promise: nil) }
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: port)
        for packet in packets {
            try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: ByteBuffer(bytes: packet)))
        }
    }

    /// Opens one TCP connection, writes `frames` (each length-prefixed) and collects `expectedResponses` frames.
    static func tcp(_ frames: [[UInt8]], port: Int, expectedResponses: Int, timeout: TimeAmount = .seconds(30)) async throws -> [[UInt8]] {
        let eventLoop = group.next()
        let promise = eventLoop.makePromise(of: [[UInt8]].self)
        let channel = try await ClientBootstrap(group: eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(TCPFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(FrameCollector(expected: expectedResponses, promise: promise))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        defer { channel.close(promise: nil) }
        let timer = eventLoop.scheduleTask(in: timeout) { promise.fail(TestClientError.timedOut) }
        defer { timer.cancel() }
        var stream = ByteBuffer()
        for frame in frames {
            stream.writeInteger(UInt16(frame.count))
            stream.writeBytes(frame)
        }
        try await channel.writeAndFlush(stream)
        return try await promise.futureResult.get()
    }

    /// Opens a TCP connection and leaves it idle; the caller closes it.
    static func openIdleTCP(port: Int) async throws -> any Channel {
        try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port).get()
    }

    /// Opens a TCP connection, writes raw bytes (no framing added) and closes it.
    static func tcpRaw(_ bytes: [UInt8], port: Int) async throws {
        let channel = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port).get()
        // The server may close first when the bytes break the framing; either way the connection ends.
        try? await channel.writeAndFlush(ByteBuffer(bytes: bytes))
        try? await channel.close()
    }

    /// Sends queries over TCP on one connection and decodes the responses.
    static func tcp(_ queries: [DNSMessage], port: Int) async throws -> [DNSMessage] {
        try await tcp(queries.map { $0.encoded() }, port: port, expectedResponses: queries.count).map { try DNSMessage(decoding: $0) }
    }
}

private final class FirstDatagram: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let promise: EventLoopPromise<[UInt8]>

    init(promise: EventLoopPromise<[UInt8]>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        promise.succeed(Array(Self.unwrapInboundIn(data).data.readableBytesView))
    }
}

private final class FrameCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let expected: Int
    let promise: EventLoopPromise<[[UInt8]]>
    var frames: [[UInt8]] = []

    init(expected: Int, promise: EventLoopPromise<[[UInt8]]>) {
        self.expected = expected
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        frames.append(Array(Self.unwrapInboundIn(data).readableBytesView))
        if frames.count >= expected { promise.succeed(frames) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(TestClientError.closed)
    }
}
