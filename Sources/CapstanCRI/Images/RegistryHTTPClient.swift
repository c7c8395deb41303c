import CapstanCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// An absolute `http`/`https` URL, split the way a request needs it.
package struct RegistryURL: Hashable, Sendable, CustomStringConvertible {
    package var scheme: String
    /// Lowercased host name or IP literal (IPv6 without brackets).
    package var host: String
    package var port: Int
    /// Percent-encoded path and query, starting with `/`.
    package var target: String

    /// Parses `text` (relative to `base` when given, as a `Location` header may be); nil
    /// unless the result is an http(s) URL with a host and no user info.
    package init?(_ text: String, relativeTo base: RegistryURL? = nil) {
        guard let url = URL(string: text, relativeTo: base.flatMap { URL(string: $0.description) }),
            let components = URLComponents(url: url.absoluteURL, resolvingAgainstBaseURL: true),
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            components.user == nil, components.password == nil,
            var host = components.host, !host.isEmpty
        else { return nil }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard RegistryAddress(host.contains(":") ? "[\(host)]" : host) != nil else { return nil }
        self.scheme = scheme
        self.host = host.lowercased()
        self.port = components.port ?? (scheme == "https" ? 443 : 80)
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        self.target = path + (components.percentEncodedQuery.map { "?\($0)" } ?? "")
    }

    /// A URL from its parts, as given (`host` lowercased, IPv6 without brackets).
    package init(scheme: String, host: String, port: Int, target: String) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.target = target
    }

    /// `host[:port]` for the `Host` header (the port only when not the scheme's default).
    package var authority: String {
        let bracketed = host.contains(":") ? "[\(host)]" : host
        let defaultPort = scheme == "https" ? 443 : 80
        return port == defaultPort ? bracketed : "\(bracketed):\(port)"
    }

    /// Whether `other` is the same origin (scheme, host and port).
    package func sameOrigin(as other: RegistryURL) -> Bool {
        scheme == other.scheme && host == other.host && port == other.port
    }

    /// `scheme://authority/target`.
    package var description: String { "\(scheme)://\(authority)\(target)" }
}

/// The body of a response being received, chunk by chunk, with backpressure: the next chunk
/// is read from the socket only when asked for.
struct RegistryResponseBody {
    fileprivate var parts: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator
    fileprivate var ended = false
    let url: RegistryURL

    /// The next chunk, or nil once the response has ended. Throws when the connection closes
    /// before the end of the response.
    mutating func next() async throws -> ByteBuffer? {
        while !ended {
            guard let part = try await parts.next() else {
                throw CRIError(.unavailable, "the connection to \(url.authority) closed in the middle of a response")
            }
            switch part {
            case .body(let buffer): return buffer
            case .end: ended = true
            case .head: throw CRIError(.unavailable, "\(url.authority) sent a second response head")
            }
        }
        return nil
    }

    /// The whole body; throws when it is longer than `limit` bytes, naming `what`.
    mutating func collect(limit: Int, what: @autoclosure () -> String) async throws -> Data {
        var data = Data()
        while let chunk = try await next() {
            guard chunk.readableBytes <= limit - data.count else {
                throw CRIError(.resourceExhausted, "\(what()) from \(url.authority) is larger than the \(limit)-byte limit")
            }
            data.append(contentsOf: chunk.readableBytesView)
        }
        return data
    }
}

/// A minimal HTTP/1.1 client for registries, on SwiftNIO: one request per connection, no
/// redirects, no proxies, no headers but the ones given. Callers decide where requests go
/// and which carry credentials; this only moves bytes, with a read timeout so a registry
/// that stops sending cannot hold a pull forever.
struct RegistryHTTPClient: Sendable {
    /// Closes a connection on which nothing arrived for this long.
    var readTimeout: Duration
    /// TLS for `https` URLs: the system's trust roots, certificate and host name verified.
    private let tlsContext: Result<NIOSSLContext, any Error>

    /// - Parameter tls: how `https` connections are verified (tests add their own CA).
    init(readTimeout: Duration, tls: TLSConfiguration = .makeClientConfiguration()) {
        self.readTimeout = readTimeout
        tlsContext = Result { try NIOSSLContext(configuration: tls) }
    }

    /// Sends `GET url` and hands the response head and body to `handle`; the connection is
    /// closed when `handle` returns.
    /// - Parameter connectHost: the address to connect to (the loopback literal a name such
    ///   as `localhost` was resolved to); the URL's host by default.
    func get<Value: Sendable>(
        _ url: RegistryURL, connectHost: String? = nil, headers: [(String, String)],
        _ handle: (HTTPResponseHead, inout RegistryResponseBody) async throws -> Value
    ) async throws -> Value {
        let tls: NIOSSLContext?
        do {
            tls = url.scheme == "https" ? try tlsContext.get() : nil
        } catch {
            throw CRIError.internal("cannot set up TLS: \(error)")
        }
        let serverName = IPLiteral(url.host) != nil ? nil : url.host
        let readTimeout = self.readTimeout
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(30))
                .connect(host: connectHost ?? url.host, port: url.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        if let tls {
                            try pipeline.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: serverName))
                        }
                        try pipeline.addHTTPClientHandlers()
                        try pipeline.addHandler(IdleStateHandler(readTimeout: .nanoseconds(Int64(readTimeout.nanoseconds))))
                        try pipeline.addHandler(ReadTimeoutHandler(url: url, timeout: readTimeout))
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                            wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw CRIError(.unavailable, "cannot connect to registry \(url.authority): \(error)")
        }
        do {
            return try await exchange(on: channel, url: url, headers: headers, handle)
        } catch let error as CRIError {
            throw error
        } catch {
            // TLS failures, resets: the registry could not be talked to.
            throw CRIError(.unavailable, "cannot talk to registry \(url.authority): \(error)")
        }
    }

    private func exchange<Value: Sendable>(
        on channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>, url: RegistryURL,
        headers: [(String, String)], _ handle: (HTTPResponseHead, inout RegistryResponseBody) async throws -> Value
    ) async throws -> Value {
        try await channel.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: url.target)
            head.headers.add(name: "Host", value: url.authority)
            head.headers.add(name: "User-Agent", value: "capstan/\(CapstanCRIVersion.current)")
            head.headers.add(name: "Connection", value: "close")
            for (name, value) in headers { head.headers.add(name: name, value: value) }
            // One write: a registry may answer and close as soon as it has the head, and a
            // second write would then fail on the closed channel.
            do {
                try await outbound.write(contentsOf: [.head(head), .end(nil)])
            } catch {
                // The connection ended under the write (the read timeout closed it on a
                // loaded machine, or the registry hung up): the inbound side says why.
            }
            var parts = inbound.makeAsyncIterator()
            guard case .head(let responseHead) = try await parts.next() else {
                throw CRIError(.unavailable, "registry \(url.authority) closed the connection without answering")
            }
            var body = RegistryResponseBody(parts: parts, url: url)
            return try await handle(responseHead, &body)
        }
    }
}

/// Turns an idle read into an error naming the registry, then closes the connection.
private final class ReadTimeoutHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias InboundOut = HTTPClientResponsePart
    let url: RegistryURL
    let timeout: Duration

    init(url: RegistryURL, timeout: Duration) {
        self.url = url
        self.timeout = timeout
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            context.fireErrorCaught(CRIError(.unavailable, "registry \(url.authority) sent nothing for \(timeout)"))
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

extension Duration {
    var nanoseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1e9 + Double(attoseconds) / 1e9
    }
}
