package import CapstanAPIServer
import CapstanStore
package import CapstanTestSupport
import Logging

/// A registry over a real SQLite store in a temporary folder, with the built-in
/// namespaces: what the in-process tests of the client, scheduler, controllers
/// and node agent run against. The folder is also the caller's to use (its
/// `store` and `security` subfolders are taken).
package func withInProcessRegistry(prefix: String, _ body: (ResourceRegistry, TemporaryDirectory) async throws -> Void) async throws {
    try await withInProcessServer(prefix: prefix) { server, directory in try await body(server.registry, directory) }
}

/// ``withInProcessRegistry``'s server itself, not run: its ``APIServer/client``
/// also signs service-account tokens, as the node agent of a server asks them.
package func withInProcessServer(prefix: String, _ body: (APIServer, TemporaryDirectory) async throws -> Void) async throws {
    try await TemporaryDirectory.with(prefix: prefix) { directory in
        let store = try SQLiteStore(directory: directory.appending("store"), options: .init(durability: .normal), logger: Logger(label: "test"))
        defer { store.close() }
        let server = APIServer(
            configuration: .init(capstanVersion: "test"), store: store, backend: "sqlite",
            security: try ServerSecurity.prepare(dataDirectory: directory.appending("security"), tls: false, names: []), logger: Logger(label: "test")
        )
        try await server.ensureBuiltinNamespaces()
        try await body(server, directory)
    }
}
