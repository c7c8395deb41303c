import Logging

@testable import CapstanDNS

/// Runs a ``DNSServer`` on 127.0.0.1 with a kernel-chosen port for the duration of `body`, then cancels
/// it and waits for `run()` to return.
enum ServerHarness {
    static func withServer<T: Sendable>(
        records: ClusterDNSRecords = ClusterFixtures.records, forwarder: UpstreamForwarder? = nil,
        _ body: @Sendable (_ port: Int) async throws -> T
    ) async throws -> T {
        let server = DNSServer(
            configuration: DNSServer.Configuration(host: "127.0.0.1", port: 0), records: { records }, forwarder: forwarder,
            logger: Logger(label: "test.dns"))
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await server.run()
                return nil
            }
            do {
                let port = try await server.boundAddress.port
                let result = try await body(port)
                group.cancelAll()
                try await group.waitForAll()
                return result
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }

    /// A headless service with `count` ready endpoints: far more than 512 bytes of A records.
    static func bigHeadless(count: Int) -> ClusterDNSRecords {
        ClusterDNSRecords(services: [
            .headless(
                namespace: "default", name: "big",
                endpoints: (0..<count).map { ClusterDNSRecords.Endpoint(ip: "10.2.\($0 / 250).\($0 % 250 + 1)") })
        ])
    }
}
