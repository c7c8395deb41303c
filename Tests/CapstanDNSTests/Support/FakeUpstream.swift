import NIOCore
import NIOPosix
import Synchronization

@testable import CapstanDNS

/// A resolver on 127.0.0.1 that answers UDP and TCP on one port with whatever `respond` returns (nil: stay
/// silent), and counts the queries it gets per transport.
final class FakeUpstream: Sendable {
    enum Transport: Sendable {
        case udp
        case tcp
    }

    typealias Responder = @Sendable (DNSMessage, Transport) -> DNSMessage?

    private let udpChannel: any Channel
    private let tcpChannel: any Channel
    private let counts: Counts

    private final class Counts: Sendable {
        let udp = Mutex(0)
        let tcp = Mutex(0)
    }

    var server: UpstreamServer { UpstreamServer(host: "127.0.0.1", port: udpChannel.localAddress?.port ?? 0) }
    var udpQueries: Int { counts.udp.withLock { $0 } }
    var tcpQueries: Int { counts.tcp.withLock { $0 } }

    private init(udpChannel: any Channel, tcpChannel: any Channel, counts: Counts) {
        self.udpChannel = udpChannel
        self.tcpChannel = tcpChannel
        self.counts = counts
    }

    static func start(respond: @escaping Responder) async throws -> FakeUpstream {
        let group = MultiThreadedEventLoopGroup.singleton
        let counts = Counts()
        for _ in 0..<5 {
            let udp = try await DatagramBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(UDPResponder(respond: respond, counts: counts))
                    }
                }
                .bind(host: "127.0.0.1", port: 0).get()
            do {
                let tcp = try await ServerBootstrap(group: group)
                    .childChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(TCPFrameDecoder()))
                            try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(TCPFrameEncoder()))
                            try channel.pipeline.syncOperations.addHandler(TCPResponder(respond: respond, counts: counts))
                        }
                    }
                    .bind(host: "127.0.0.1", port: udp.localAddress?.port ?? 0).get()
                return FakeUpstream(udpChannel: udp, tcpChannel: tcp, counts: counts)
            } catch {
                try? await udp.close()
            }
        }
        throw TestClientError.closed
    }

    func stop() async {
        try? await udpChannel.close()
        try? await tcpChannel.close()
    }

    /// Runs `body` with a fake upstream and stops it afterwards.
    static func with<T>(respond: @escaping Responder, _ body: (FakeUpstream) async throws -> T) async throws -> T {
        let upstream = try await start(respond: respond)
        do {
            let result = try await body(upstream)
            await upstream.stop()
            return result
        } catch {
            await upstream.stop()
            throw error
        }
    }

    private final class UDPResponder: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        typealias OutboundOut = AddressedEnvelope<ByteBuffer>
        let respond: Responder
        let counts: Counts

        init(respond: @escaping Responder, counts: Counts) {
            self.respond = respond
            self.counts = counts
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = Self.unwrapInboundIn(data)
            counts.udp.withLock { $0 += 1 }
            guard let query = try? DNSMessage(decoding: Array(envelope.data.readableBytesView)), let response = respond(query, .udp) else { return }
            let reply = AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: ByteBuffer(bytes: response.encoded()))
            context.writeAndFlush(Self.wrapOutboundOut(reply), promise: nil)
        }
    }

    private final class TCPResponder: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let respond: Responder
        let counts: Counts

        init(respond: @escaping Responder, counts: Counts) {
            self.respond = respond
            self.counts = counts
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            counts.tcp.withLock { $0 += 1 }
            guard let query = try? DNSMessage(decoding: Array(Self.unwrapInboundIn(data).readableBytesView)), let response = respond(query, .tcp)
            else { return }
            context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(bytes: response.encoded())), promise: nil)
        }
    }
}

extension DNSMessage {
    /// A response to this query carrying `answers`, as an upstream resolver would send it.
    func upstreamResponse(_ answers: [DNSResourceRecord], code: DNSResponseCode = .noError, authorities: [DNSResourceRecord] = []) -> DNSMessage {
        var response = responseSkeleton(code: code)
        response.header.recursionAvailable = true
        response.answers = answers
        response.authorities = authorities
        response.edns = edns.map { _ in EDNS() }
        return response
    }
}
