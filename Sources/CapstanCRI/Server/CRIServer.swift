import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
package import Logging
import ServiceLifecycle

/// Serves the CRI runtime and image services over HTTP/2 on a unix socket until graceful
/// shutdown, which stops accepting calls and lets the ones in flight finish; then it
/// releases what only a running shim needs. Containers keep running for the next
/// shim to adopt.
package struct CRIServer: Service {
    package let socketPath: String
    package let runtime: CRIRuntime
    package let logger: Logger
    /// Called once the socket accepts connections, with its path.
    package let onListening: @Sendable (String) -> Void

    package init(socketPath: String, runtime: CRIRuntime, logger: Logger, onListening: @escaping @Sendable (String) -> Void) {
        self.socketPath = socketPath
        self.runtime = runtime
        self.logger = logger
        self.onListening = onListening
    }

    package func run() async throws {
        try FileManager.default.createDirectory(
            atPath: (socketPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let transport = HTTP2ServerTransport.Posix(
            address: .unixDomainSocket(path: socketPath), transportSecurity: .plaintext)
        let server = GRPCServer(
            transport: transport,
            services: [RuntimeServiceHandler(runtime: runtime), ImageServiceHandler(runtime: runtime)])
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await server.serve() }
                _ = try await transport.listeningAddress
                // Only root may drive the runtime: the socket is as powerful as root itself.
                chmod(socketPath, 0o600)
                onListening(socketPath)
            }
        } onGracefulShutdown: {
            logger.info("shutting down: no new calls, finishing those in flight")
            server.beginGracefulShutdown()
        }
        await runtime.shutdown()
    }
}
