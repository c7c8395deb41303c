import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Opens HTTP/1.1 connections (over TLS for `https://`) to one server.
struct HTTPConnector: Sendable {
    let host: String
    let port: Int
    /// nil for plain HTTP.
    let tls: NIOSSLContext?
    let connectTimeout: Duration
    /// The server's URL, for error messages.
    let server: String

    func connect() async throws(HTTPClusterClient.TransportError) -> any Channel {
        let tls = self.tls
        // SNI and hostname checks need a name; for an IP address NIOSSL checks the certificate's IP SANs.
        let serverName = host.first?.isNumber == true || host.contains(":") ? nil : host
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(connectTimeout.timeAmount)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: serverName))
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(HTTPExchangeHandler())
                }
            }
        do {
            return try await bootstrap.connect(host: host, port: port).get()
        } catch {
            throw HTTPClusterClient.TransportError(server: server, "cannot connect: \(error)")
        }
    }
}

extension Duration {
    /// The same span as NIO's `TimeAmount`.
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
