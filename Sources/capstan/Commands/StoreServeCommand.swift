import ArgumentParser
import CapstanStore
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// `capstan store serve`: the SQLite store over the etcd v3 gRPC API, so
/// etcdctl and other etcd v3 clients work against it.
struct StoreServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the SQLite store over the etcd v3 gRPC API (KV, Watch, Lease, Maintenance.Status)."
    )

    @Option(name: .customLong("data-dir"), help: "Directory holding the store's database (created if missing).")
    var dataDirectory: String

    @Option(help: "Address to listen on, HOST:PORT (port 0 picks a free one).")
    var listen: String = "127.0.0.1:2379"

    // TLS with client-certificate authentication, etcd's flags and meaning.
    @Option(name: .customLong("cert-file"), help: "PEM certificate the server presents (with --key-file and --trusted-ca-file).")
    var certificateFile: String?

    @Option(name: .customLong("key-file"), help: "PEM private key of --cert-file.")
    var keyFile: String?

    @Option(
        name: .customLong("trusted-ca-file"),
        help: "PEM CA that signs the clients' certificates; every client must present one (etcd's --client-cert-auth).")
    var trustedCAFile: String?

    @Option(help: "full: fsync every commit (default); normal: fsync at checkpoints only, may lose the last writes on power loss.")
    var durability: String = "full"

    @Option(
        name: .customLong("auto-compaction-mode"),
        help: "periodic: keep history younger than the retention (seconds); revision: keep the last <retention> revisions.")
    var autoCompactionMode: String = "periodic"

    @Option(
        name: .customLong("auto-compaction-retention"),
        help: "Seconds (periodic) or revisions (revision) of history to keep; 0 turns automatic compaction off.")
    var autoCompactionRetention: Int64 = 3600

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("unknown --log-level '\(logLevel)'")
        }
        guard SQLiteStore.Durability(rawValue: durability) != nil else {
            throw ValidationError("--durability must be 'full' or 'normal', not '\(durability)'")
        }
        guard ["periodic", "revision"].contains(autoCompactionMode) else {
            throw ValidationError("--auto-compaction-mode must be 'periodic' or 'revision', not '\(autoCompactionMode)'")
        }
        guard autoCompactionRetention >= 0 else {
            throw ValidationError("--auto-compaction-retention must not be negative")
        }
        let address = try ListenAddress(listen)
        let tlsFlags = [certificateFile, keyFile, trustedCAFile]
        if tlsFlags.contains(where: { $0 != nil }), tlsFlags.contains(where: { $0 == nil }) {
            throw ValidationError("--cert-file, --key-file and --trusted-ca-file go together: TLS here always authenticates clients by certificate")
        }
        for case let file? in tlsFlags where !FileManager.default.isReadableFile(atPath: file) {
            throw ValidationError("cannot read \(file)")
        }
        if clientCertificateAuth == nil, !address.isLoopback {
            throw ValidationError(
                "--listen \(listen) is not a loopback address: serving the store to other machines needs --cert-file, --key-file and --trusted-ca-file (client-certificate authentication), as etcd does"
            )
        }
    }

    private var clientCertificateAuth: EtcdAPIServer.ClientCertificateAuth? {
        guard let certificateFile, let keyFile, let trustedCAFile else { return nil }
        return .init(certificateFile: certificateFile, keyFile: keyFile, trustedCAFile: trustedCAFile)
    }

    func run() async throws {
        var logger = Logger(label: "capstan.store")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let address = try ListenAddress(listen)
        let options = SQLiteStore.Options(durability: SQLiteStore.Durability(rawValue: durability) ?? .full)
        let store = try SQLiteStore(directory: dataDirectory, options: options, logger: logger)
        defer { store.close() }

        let server = EtcdAPIServer(store: store, host: address.host, port: address.port, tls: clientCertificateAuth, logger: logger) { address in
            print("capstan store listening on \(address) (data dir \(dataDirectory))")
            fflush(nil)
        }
        var services: [any Service] = [server]
        if autoCompactionRetention > 0 {
            let policy: AutoCompactor.Policy =
                autoCompactionMode == "revision"
                ? .keepRevisions(autoCompactionRetention)
                : .keepDuration(.seconds(autoCompactionRetention))
            services.append(AutoCompactor(store: store, policy: policy, logger: logger))
        }
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
