import CapstanStore
import CapstanTestSupport
import Foundation
import Logging
import Testing

/// The store implementations the conformance suite runs against.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    /// SQLiteStore in a temporary directory, called directly.
    case sqlite
    /// A real etcd 3.4 on loopback, through EtcdStore.
    case etcd
    /// SQLiteStore behind Capstan's etcd v3 API server, through EtcdStore:
    /// proves the wire API answers as etcd does.
    case sqliteOverEtcdAPI

    var testDescription: String { rawValue }

    static let logger: Logger = {
        var logger = Logger(label: "capstan.store.test")
        logger.logLevel = .warning
        return logger
    }()

    /// Runs `body` with a fresh, empty store and tears everything down after,
    /// also when `body` throws.
    func withStore<Result: Sendable>(
        options: SQLiteStore.Options = .init(), _ body: (any Store) async throws -> Result
    ) async throws -> Result {
        switch self {
        case .sqlite:
            return try await TemporaryDirectory.with { directory in
                let store = try SQLiteStore(directory: directory.path, options: options, logger: Self.logger)
                defer { store.close() }
                return try await body(store)
            }
        case .etcd:
            let etcd = try await EtcdServer()
            defer { etcd.stop() }
            return try await EtcdStore.withConnection(host: "127.0.0.1", port: etcd.clientPort, logger: Self.logger) { store in
                try await body(store)
            }
        case .sqliteOverEtcdAPI:
            return try await TemporaryDirectory.with { directory in
                let store = try SQLiteStore(directory: directory.path, options: options, logger: Self.logger)
                defer { store.close() }
                return try await withServer(for: store) { port in
                    try await EtcdStore.withConnection(host: "127.0.0.1", port: port, logger: Self.logger) { client in
                        try await body(client)
                    }
                }
            }
        }
    }
}

/// Serves `store` over the etcd v3 API on a free loopback port while `body` runs.
func withServer<Result: Sendable>(
    for store: any Store, progressNotifyInterval: Duration = .seconds(600),
    _ body: (Int) async throws -> Result
) async throws -> Result {
    let (addresses, sink) = AsyncStream<String>.makeStream()
    let server = EtcdAPIServer(
        store: store, host: "127.0.0.1", port: 0, logger: Backend.logger,
        progressNotifyInterval: progressNotifyInterval
    ) { address in
        sink.yield(address)
        sink.finish()
    }
    return try await withThrowingTaskGroup(of: Result?.self) { group in
        group.addTask {
            try await server.run()
            return nil
        }
        var iterator = addresses.makeAsyncIterator()
        guard let address = await iterator.next(), let port = Int(address.split(separator: ":").last ?? "") else {
            throw StoreTestError("the API server did not report its address")
        }
        let result = try await body(port)
        group.cancelAll()
        return result
    }
}

struct StoreTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension String {
    var bytes: Data { Data(utf8) }
}

extension Data {
    var text: String { String(decoding: self, as: UTF8.self) }
}

/// Reads batches from `stream` until `count` events arrived (bounded by `timeout`).
func collectEvents(_ stream: WatchStream, count: Int, timeout: Duration = .seconds(20)) async throws -> [Event] {
    try await withThrowingTaskGroup(of: [Event]?.self) { group in
        group.addTask {
            var events: [Event] = []
            while events.count < count, let batch = try await stream.next() {
                events += batch.events
                if batch.cancellation != nil { break }
            }
            return events
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let events = first else {
            stream.cancel()
            throw StoreTestError("timed out waiting for \(count) watch events")
        }
        return events
    }
}
