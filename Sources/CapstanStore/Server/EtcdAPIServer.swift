import EtcdAPI
import GRPCCore
import GRPCNIOTransportHTTP2
public import Logging
public import ServiceLifecycle

/// Serves a ``Store`` over the etcd v3 gRPC API (KV, Watch, Lease and
/// Maintenance.Status) on a TCP address, as a `Service`: it runs until
/// cancelled or a graceful shutdown, which ends open streams and lets
/// unary calls finish.
public struct EtcdAPIServer: Service {
    /// etcd's request limit plus its 512 KiB allowance for gRPC overhead, so
    /// oversized requests reach the store and get etcd's own error.
    static let maxRequestPayload = StoreLimits.maxRequestBytes + 512 * 1024

    /// Files of TLS with client-certificate authentication, as etcd's
    /// `--cert-file`, `--key-file` and `--trusted-ca-file` with
    /// `--client-cert-auth`: every client must present a certificate the CA signed.
    public struct ClientCertificateAuth: Sendable, Hashable {
        public var certificateFile: String
        public var keyFile: String
        public var trustedCAFile: String

        public init(certificateFile: String, keyFile: String, trustedCAFile: String) {
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.trustedCAFile = trustedCAFile
        }
    }

    private let store: any Store
    private let tls: ClientCertificateAuth?
    private let host: String
    private let port: Int
    private let logger: Logger
    private let progressNotifyInterval: Duration
    private let onListening: @Sendable (String) -> Void

    /// - Parameters:
    ///   - tls: nil serves plain gRPC (callers must keep that to loopback).
    ///   - onListening: called once bound, with `host:port` (the real port when `port` is 0).
    public init(
        store: any Store, host: String, port: Int, tls: ClientCertificateAuth? = nil, logger: Logger,
        progressNotifyInterval: Duration = .seconds(600),
        onListening: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.store = store
        self.tls = tls
        self.host = host
        self.port = port
        self.logger = logger
        self.progressNotifyInterval = progressNotifyInterval
        self.onListening = onListening
    }

    private var transportSecurity: HTTP2ServerTransport.Posix.TransportSecurity {
        guard let tls else { return .plaintext }
        return .mTLS(
            certificateChain: [.file(path: tls.certificateFile, format: .pem)], privateKey: .file(path: tls.keyFile, format: .pem)
        ) { config in
            config.clientCertificateVerification = .noHostnameVerification
            config.trustRoots = .certificates([.file(path: tls.trustedCAFile, format: .pem)])
        }
    }

    public func run() async throws {
        let address: SocketAddress = host.contains(":") ? .ipv6(host: host, port: port) : .ipv4(host: host, port: port)
        let transport = HTTP2ServerTransport.Posix(
            address: address, transportSecurity: transportSecurity,
            config: .defaults { config in
                config.rpc.maxRequestPayloadSize = Self.maxRequestPayload
                // Large responses (a range over many keys) need more than the
                // 64 KiB default window to flow without a round trip per window.
                config.http2.targetWindowSize = 8 << 20
            })
        let server = GRPCServer(
            transport: transport,
            services: [
                EtcdKVService(store: store),
                EtcdWatchService(store: store, progressNotifyInterval: progressNotifyInterval),
                EtcdLeaseService(store: store),
                EtcdMaintenanceService(store: store),
            ])
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await server.serve() }
                let bound = try await transport.listeningAddress
                let description =
                    if let ipv4 = bound.ipv4 { "\(ipv4.host):\(ipv4.port)" } else if let ipv6 = bound.ipv6 {
                        "[\(ipv6.host)]:\(ipv6.port)"
                    } else { "\(bound)" }
                logger.info("etcd v3 API listening", metadata: ["address": "\(description)"])
                onListening(description)
            }
        } onGracefulShutdown: {
            server.beginGracefulShutdown()
        }
    }
}
