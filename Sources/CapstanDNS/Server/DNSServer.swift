package import Logging
package import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The node's DNS server: UDP and TCP on one address and port, cluster names answered from the snapshot
/// `records` returns, everything else forwarded.
///
/// `run()` binds, serves until cancelled or told to shut down gracefully, then closes the listeners and
/// waits for queries in progress. Any input gets an answer or is dropped; none stops the server.
package final class DNSServer: Service, Sendable {
    /// Where and how to listen.
    package struct Configuration: Sendable {
        /// The address to bind, an IP literal (`0.0.0.0`, `::`, `127.0.0.1`, a node address).
        package var host: String
        /// The port for both UDP and TCP; 0 picks a free one, the same for both (see ``DNSServer/boundAddress``).
        package var port: Int
        /// The cluster domain, TTL and reverse zones answered locally.
        package var cluster: ClusterResolver.Configuration
        /// A TCP connection with no new query for this long is closed (RFC 7766 §6.2.3 suggests seconds).
        package var tcpIdleTimeout: Duration
        /// Connections beyond this are closed as soon as they are accepted.
        package var maximumTCPConnections: Int
        /// UDP queries being answered at once; further ones are dropped until some finish, as a loaded
        /// server must (the client retries).
        package var maximumConcurrentUDPQueries: Int

        /// Defaults: all IPv4 interfaces, port 53, CoreDNS's cluster settings, 10 s TCP idle timeout.
        package init(
            host: String = "0.0.0.0", port: Int = 53, cluster: ClusterResolver.Configuration = ClusterResolver.Configuration(),
            tcpIdleTimeout: Duration = .seconds(10), maximumTCPConnections: Int = 256, maximumConcurrentUDPQueries: Int = 1024
        ) {
            self.host = host
            self.port = port
            self.cluster = cluster
            self.tcpIdleTimeout = tcpIdleTimeout
            self.maximumTCPConnections = maximumTCPConnections
            self.maximumConcurrentUDPQueries = maximumConcurrentUDPQueries
        }
    }

    /// Where the server ended up listening.
    package struct BoundAddress: Hashable, Sendable {
        /// The host the server was configured with.
        package var host: String
        /// The port UDP and TCP are both bound to.
        package var port: Int
    }

    /// Where and how this server listens.
    package let configuration: Configuration
    private let processor: QueryProcessor
    private let group: any EventLoopGroup
    private let logger: Logger
    private let waiters = BoundAddressWaiters()

    /// A server that listens once `run()` is called.
    ///
    /// - Parameters:
    ///   - records: the current cluster snapshot; called once per cluster query, so it should return a stored value.
    ///   - forwarder: where names outside the cluster go; without one they are answered REFUSED.
    package init(
        configuration: Configuration, records: @escaping @Sendable () -> ClusterDNSRecords, forwarder: UpstreamForwarder?,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger = Logger(label: "capstan.dns")
    ) {
        self.configuration = configuration
        self.group = group
        self.logger = logger
        self.processor = QueryProcessor(
            resolver: ClusterResolver(configuration: configuration.cluster), records: records, forwarder: forwarder, logger: logger)
    }

    /// The address and port once `run()` has bound them; waits until then. Throws ``DNSServerError/notRunning``
    /// when `run()` ends without binding (or has ended), and `CancellationError` when the caller is cancelled.
    package var boundAddress: BoundAddress {
        get async throws { try await waiters.wait() }
    }

    /// Binds UDP and TCP, serves until the task is cancelled or a graceful shutdown is requested, and returns
    /// once the listeners are closed and the queries in progress are answered. Throws when binding fails.
    package func run() async throws {
        defer { waiters.stop() }
        let (udp, tcp) = try await bindBoth()
        let address = BoundAddress(host: configuration.host, port: udp.channel.localAddress?.port ?? configuration.port)
        logger.info("DNS server listening", metadata: ["host": "\(address.host)", "port": "\(address.port)"])
        waiters.publish(address)
        let stopping = Mutex(false)
        do {
            try await withTaskCancellationOrGracefulShutdownHandler {
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask { try await self.serveUDP(udp) }
                    group.addTask { try await self.serveTCP(tcp) }
                }
            } onCancelOrGracefulShutdown: {
                // Closing the listeners ends their inbound streams; the serving loops then drain and return.
                stopping.withLock { $0 = true }
                udp.channel.close(promise: nil)
                tcp.channel.close(promise: nil)
            }
        } catch  where stopping.withLock({ $0 }) {
            // Errors from streams cut short by the shutdown itself (cancellation, closed channels) are the
            // expected way out, not failures.
            logger.debug("DNS server listeners ended while stopping", metadata: ["error": "\(error)"])
        }
        logger.info("DNS server stopped", metadata: ["port": "\(address.port)"])
    }

    // MARK: - Binding

    private typealias UDPChannel = NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>
    private typealias TCPConnection = NIOAsyncChannel<ByteBuffer, ByteBuffer>
    private typealias TCPListener = NIOAsyncChannel<TCPConnection, Never>

    /// Binds UDP, then TCP on the port UDP got. With port 0 the kernel may have given UDP a port that TCP
    /// cannot have; then both are let go and tried again, a few times.
    private func bindBoth() async throws -> (UDPChannel, TCPListener) {
        var attempt = 0
        while true {
            attempt += 1
            let udp = try await bindUDP(port: configuration.port)
            let port = udp.channel.localAddress?.port ?? configuration.port
            do {
                return (udp, try await bindTCP(port: port))
            } catch {
                try? await udp.channel.close()
                guard configuration.port == 0, attempt < 5 else { throw error }
                logger.debug("TCP port taken, binding again", metadata: ["port": "\(port)", "error": "\(error)"])
            }
        }
    }

    private func bindUDP(port: Int) async throws -> UDPChannel {
        // No SO_REUSEADDR: for UDP it would let a second server share (or steal) this address's queries.
        try await DatagramBootstrap(group: group)
            .bind(host: configuration.host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try UDPChannel(wrappingChannelSynchronously: channel) }
            }
    }

    /// Queries are a question plus an OPT record, a few hundred bytes; a connection announcing more than
    /// this is not a DNS client worth buffering for, and is closed.
    static let maximumTCPQueryLength = 4096

    private func bindTCP(port: Int) async throws -> TCPListener {
        let idleTimeout = TimeAmount(configuration.tcpIdleTimeout)
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: configuration.host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(IdleStateHandler(readTimeout: idleTimeout))
                    try pipeline.addHandler(CloseOnIdleHandler())
                    try pipeline.addHandler(ByteToMessageHandler(TCPFrameDecoder(maximumFrameLength: Self.maximumTCPQueryLength)))
                    try pipeline.addHandler(MessageToByteHandler(TCPFrameEncoder()))
                    return try TCPConnection(wrappingChannelSynchronously: channel)
                }
            }
    }

    // MARK: - Serving

    private func serveUDP(_ channel: UDPChannel) async throws {
        let inFlight = Counter()
        let limit = configuration.maximumConcurrentUDPQueries
        try await channel.executeThenClose { inbound, outbound in
            try await withThrowingDiscardingTaskGroup { group in
                for try await envelope in inbound {
                    guard inFlight.increment(ifBelow: limit) else {
                        logger.debug("UDP query dropped: too many in flight")
                        continue
                    }
                    group.addTask {
                        defer { inFlight.decrement() }
                        let packet = Array(envelope.data.readableBytesView)
                        guard let response = await self.processor.respond(to: packet, over: .udp) else { return }
                        // A client that went away must not stop the listener.
                        try? await outbound.write(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: ByteBuffer(bytes: response)))
                    }
                }
            }
        }
    }

    private func serveTCP(_ listener: TCPListener) async throws {
        let open = Counter()
        let limit = configuration.maximumTCPConnections
        try await listener.executeThenClose { connections in
            try await withThrowingDiscardingTaskGroup { group in
                for try await connection in connections {
                    guard open.increment(ifBelow: limit) else {
                        logger.debug("TCP connection refused: too many open")
                        try? await connection.channel.close()
                        continue
                    }
                    group.addTask {
                        defer { open.decrement() }
                        // Idle keep-alive connections must not hold up a graceful shutdown.
                        try? await cancelWhenGracefulShutdown {
                            try await self.serveConnection(connection)
                        }
                    }
                }
            }
        }
    }

    /// Answers the connection's queries one after another until it closes, idles out, sends a frame too
    /// short to be a query, or breaks the framing.
    private func serveConnection(_ connection: TCPConnection) async throws {
        do {
            try await connection.executeThenClose { inbound, outbound in
                for try await frame in inbound {
                    guard let response = await processor.respond(to: Array(frame.readableBytesView), over: .tcp) else { return }
                    try await outbound.write(ByteBuffer(bytes: response))
                }
            }
        } catch {
            logger.debug("TCP connection ended", metadata: ["error": "\(error)"])
        }
    }
}

/// Closes a connection when the `IdleStateHandler` in front of it reports no reads for the idle timeout.
private final class CloseOnIdleHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
