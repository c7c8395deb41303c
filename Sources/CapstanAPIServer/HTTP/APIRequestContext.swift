import Hummingbird
import NIOCore

/// The request context of the API: Hummingbird's basics plus the client's
/// address, which per-client limits key on, and its connection, which
/// long-running responses watch for the client going away.
struct APIRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        channel = source.channel
    }

    /// The client's IP address (or unix socket path); `unknown` if the channel has none.
    var clientAddress: String {
        remoteAddress?.ipAddress ?? remoteAddress?.pathname ?? "unknown"
    }
}

/// Tells a long-running response (a watch) that its client went away.
///
/// A watch writes nothing while no event comes, so it would otherwise notice
/// a departed client only at its next event, or its timeout. The server
/// allows half-closed connections, so a client's close arrives as
/// `inputClosed` rather than closing the channel; either ends the watch, as
/// Go's HTTP server cancels a request whose connection reads EOF.
final class ClientDeparture: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny

    private let promise: EventLoopPromise<Void>
    private let channel: any Channel

    /// Installs the observer first in the channel's pipeline.
    init(channel: any Channel) {
        self.channel = channel
        self.promise = channel.eventLoop.makePromise(of: Void.self)
        channel.closeFuture.whenComplete { [promise] _ in promise.succeed() }
        channel.pipeline.addHandler(self, position: .first).whenFailure { [promise] _ in promise.succeed() }
    }

    /// Completes when the client has gone.
    var departed: EventLoopFuture<Void> { promise.futureResult }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { promise.succeed() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.succeed()
        context.fireChannelInactive()
    }

    /// Stops observing (the response is done); the connection may serve more requests.
    func remove() {
        promise.succeed()
        channel.pipeline.removeHandler(self).whenFailure { _ in }
    }
}

/// The departure of the client a long-running response is written to.
enum ClientConnection {
    @TaskLocal static var departed: EventLoopFuture<Void>?
}
