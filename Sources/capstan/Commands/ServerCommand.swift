import ArgumentParser
import CapstanAPIServer
import CapstanStore
import Foundation
import Logging
import ServiceLifecycle

/// `capstan server`: the store and the Kubernetes-compatible API server.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run the API server on Capstan's embedded store.",
        discussion: """
            Serves the Kubernetes API that kubectl and the Python kubernetes client use. \
            It listens on plain HTTP and therefore only on a loopback address; TLS and \
            token authentication are not built yet, so do not expose it.
            """
    )

    @Option(name: .customLong("data-dir"), help: "Directory holding the store's database (created if missing).")
    var dataDirectory: String = "/var/lib/capstan"

    @Option(help: "Address to listen on, HOST:PORT (port 0 picks a free one). Loopback only.")
    var listen: String = "127.0.0.1:6443"

    @Option(help: "full: fsync every commit (default); normal: fsync at checkpoints only.")
    var durability: String = "full"

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    // Operations: request limits and event retention.
    @Option(name: .customLong("max-watches-per-client"), help: "Watches one client address may hold open; more get 429.")
    var maxWatchesPerClient: Int = RequestLimits().maxWatchesPerClient

    @Option(name: .customLong("event-ttl"), help: "Seconds an Event is kept after its last update (0: forever).")
    var eventTTL: Int64 = 3600

    func validate() throws {
        guard maxWatchesPerClient > 0 else { throw ValidationError("--max-watches-per-client must be at least 1") }
        guard eventTTL >= 0 else { throw ValidationError("--event-ttl must not be negative") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level '\(logLevel)'") }
        guard SQLiteStore.Durability(rawValue: durability) != nil else {
            throw ValidationError("--durability must be 'full' or 'normal', not '\(durability)'")
        }
        let (host, _) = try address()
        guard ["127.0.0.1", "localhost", "::1"].contains(host) || host.hasPrefix("127.") else {
            throw ValidationError("--listen must be a loopback address: plain HTTP without authentication must not leave this machine")
        }
    }

    private func address() throws -> (host: String, port: Int) {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--listen must be HOST:PORT, not '\(listen)'")
        }
        var host = String(listen[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }

    func run() async throws {
        var logger = Logger(label: "capstan.server")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let (host, port) = try address()
        let store = try SQLiteStore(
            directory: dataDirectory + "/store", options: .init(durability: SQLiteStore.Durability(rawValue: durability) ?? .full), logger: logger)
        defer { store.close() }
        var configuration = APIServer.Configuration(host: host, port: port, capstanVersion: VersionCommand.version)
        configuration.limits.maxWatchesPerClient = maxWatchesPerClient
        configuration.eventTTLSeconds = eventTTL
        let server = APIServer(
            configuration: configuration, store: store, backend: "sqlite",
            logger: logger
        ) { boundPort in
            print("capstan server listening on http://\(host):\(boundPort) (data dir \(dataDirectory))")
            fflush(nil)
        }
        let group = ServiceGroup(configuration: .init(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
