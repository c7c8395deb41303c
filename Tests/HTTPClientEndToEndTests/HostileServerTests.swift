import CapstanAPI
import CapstanAPIServer
import CapstanCore
import CapstanTestSupport
import NIOCore
import NIOPosix
import Testing

@testable import CapstanClient

/// A loopback server that answers every request with the same bytes, then
/// (unless told otherwise) closes: a broken or hostile server, byte by byte.
private final class CannedResponder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let response: [UInt8]
    let closeAfter: Bool
    private var received: [UInt8] = []

    init(_ response: String, closeAfter: Bool) {
        self.response = Array(response.utf8)
        self.closeAfter = closeAfter
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += unwrapInboundIn(data).readableBytesView
        // One request head (GET, no body) at a time.
        while let end = received.firstRange(of: Array("\r\n\r\n".utf8)) {
            received.removeSubrange(..<end.upperBound)
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: response)), promise: nil)
            if closeAfter { context.close(promise: nil) }
        }
    }
}

private func withCannedServer(
    _ response: String, closeAfter: Bool = true, maxConnections: Int = 4, requestTimeout: Duration = .seconds(60),
    _ body: (HTTPClusterClient) async throws -> Void
) async throws {
    let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(CannedResponder(response, closeAfter: closeAfter))
            }
        }
        .bind(host: "127.0.0.1", port: 0).get()
    let port = try #require(server.localAddress?.port)
    let client = try HTTPClusterClient(
        configuration: .init(server: "http://127.0.0.1:\(port)", requestTimeout: requestTimeout, maxConnections: maxConnections))
    do {
        try await body(client)
    } catch {
        await client.shutdown()
        try await server.close()
        throw error
    }
    await client.shutdown()
    try await server.close()
}

/// The failure a call ended with, as text; nil if it succeeded.
private func failure(_ call: () async throws -> Void) async -> (any Error)? {
    do {
        try await call()
        return nil
    } catch {
        return error
    }
}

@Suite struct HostileServerTests {
    let kind = BuiltinKinds.configMap

    @Test func closedMidBodyIsATransportError() async throws {
        try await withCannedServer("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"kind\":\"Conf") { client in
            let error = await failure { _ = try await client.get(kind, namespace: "default", name: "x") }
            let transport = try #require(error as? HTTPClusterClient.TransportError, "\(String(describing: error))")
            #expect(transport.message.contains("closed in the middle of the response"), "\(transport)")
            #expect(transport.description.hasPrefix("capstan server http://127.0.0.1:"))
        }
    }

    @Test func closedBeforeAnswering() async throws {
        try await withCannedServer("") { client in
            let error = await failure { _ = try await client.get(kind, namespace: "default", name: "x") }
            let transport = try #require(error as? HTTPClusterClient.TransportError, "\(String(describing: error))")
            #expect(transport.message.contains("closed before a response"), "\(transport)")
        }
    }

    @Test func notHTTPAtAll() async throws {
        try await withCannedServer("SSH-2.0-OpenSSH_9.6\r\n\r\n") { client in
            let error = await failure { _ = try await client.list(kind, namespace: nil, options: ListOptions()) }
            #expect(error is HTTPClusterClient.TransportError, "\(String(describing: error))")
        }
    }

    @Test func bodyThatIsNotJSON() async throws {
        try await withCannedServer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", closeAfter: false) { client in
            let error = await failure { _ = try await client.get(kind, namespace: "default", name: "x") }
            let transport = try #require(error as? HTTPClusterClient.TransportError, "\(String(describing: error))")
            #expect(transport.message.contains("not JSON"), "\(transport)")
            // The connection stayed usable (keep-alive) and is reused for the next request.
            _ = await failure { _ = try await client.get(kind, namespace: "default", name: "y") }
            #expect(await client.openPooledConnections == 1)
        }
    }

    @Test func errorPageWithoutStatusKeepsTheHTTPCode() async throws {
        try await withCannedServer("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 21\r\n\r\n<html>upstream</html>") { client in
            let error = await failure { _ = try await client.get(kind, namespace: "default", name: "x") }
            let api = try #require(error as? APIError, "\(String(describing: error))")
            #expect(api.code == 502 && api.reason == "InternalError" && api.message.contains("<html>upstream</html>"), "\(api)")
        }
    }

    @Test func silentServerTimesOut() async throws {
        // Answers nothing and keeps the connection: the request timeout ends the wait.
        try await withCannedServer("", closeAfter: false, requestTimeout: .seconds(3)) { client in
            let error = await failure { _ = try await client.get(kind, namespace: "default", name: "x") }
            let transport = try #require(error as? HTTPClusterClient.TransportError, "\(String(describing: error))")
            #expect(transport.message.contains("timed out"), "\(transport)")
        }
    }

    @Test func connectionClosedWhileIdleIsReplaced() async throws {
        // Each answer promises keep-alive, then the server hangs up: every pooled
        // connection is stale by the next request, which goes on a fresh one.
        try await withCannedServer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}") { client in
            for index in 0..<5 {
                _ = try await client.get(kind, namespace: "default", name: "x\(index)")
                if index % 2 == 0 { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(await client.openPooledConnections <= 1)
        }
    }

    @Test func cancelledWhileWaitingForAPooledConnection() async throws {
        // One connection, held by a request the server never answers: the next waits, then is cancelled.
        try await withCannedServer("", closeAfter: false, maxConnections: 1) { client in
            let holder = Task { try await client.get(kind, namespace: "default", name: "held") }
            #expect(await eventually { await client.openPooledConnections == 1 })
            let waiter = Task { try await client.get(kind, namespace: "default", name: "waiting") }
            try await Task.sleep(for: .milliseconds(100))
            waiter.cancel()
            let error = await failure { _ = try await waiter.value }
            // A CancellationError, not the request timeout's error: the wait ended because of the cancel.
            #expect(error is CancellationError, "\(String(describing: error))")
            holder.cancel()
            _ = await failure { _ = try await holder.value }
            #expect(await eventually { await client.openPooledConnections == 0 })
        }
    }

    @Test func silentServerTimesOutAWatchBeforeItsHead() async throws {
        try await withCannedServer("", closeAfter: false, requestTimeout: .seconds(3)) { client in
            let error = await failure { for try await _ in client.watch(kind, namespace: nil, options: ListOptions()) {} }
            let transport = try #require(error as? HTTPClusterClient.TransportError, "\(String(describing: error))")
            #expect(transport.message.contains("no answer within"), "\(transport)")
            #expect(await eventually { client.openWatchConnections == 0 })
        }
    }

    @Test func watchWithAGarbageLineDeliversWhatCameThenFails() async throws {
        let good = #"{"type":"ADDED","object":{"kind":"ConfigMap","metadata":{"name":"a"}}}"#
        let chunks = [good + "\n", "not json\n"].map { String($0.utf8.count, radix: 16) + "\r\n" + $0 + "\r\n" }.joined()
        try await withCannedServer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks) { client in
            var names: [String] = []
            let error = await failure {
                for try await event in client.watch(kind, namespace: nil, options: ListOptions()) {
                    names.append(event.object[path: ["metadata", "name"]]?.stringValue ?? "")
                }
            }
            #expect(names == ["a"])
            let transport = try #require(error as? HTTPClusterClient.TransportError, "\(String(describing: error))")
            #expect(transport.message.contains("not JSON"), "\(transport)")
            #expect(await eventually { client.openWatchConnections == 0 })
        }
    }

    @Test func watchCutMidLineIsATransportError() async throws {
        let partial = #"{"type":"ADDED","obj"#
        let chunk = String(partial.utf8.count, radix: 16) + "\r\n" + partial + "\r\n"
        try await withCannedServer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk) { client in
            let error = await failure { for try await _ in client.watch(kind, namespace: nil, options: ListOptions()) {} }
            let transport = try #require(error as? HTTPClusterClient.TransportError, "\(String(describing: error))")
            #expect(transport.message.contains("closed in the middle"), "\(transport)")
        }
    }
}
