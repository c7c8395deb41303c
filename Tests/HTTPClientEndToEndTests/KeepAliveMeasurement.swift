import CapstanAPIServer
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

@testable import CapstanClient

/// What the keep-alive pool saves: sequential GETs on pooled connections
/// against one new TLS connection per GET, and a concurrent burst.
/// Prints figures; runs only with CAPSTAN_HTTP_MEASURE=1 (it is a measurement, not a CI check).
@Suite struct KeepAliveMeasurement {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["CAPSTAN_HTTP_MEASURE"] == "1"))
    func pooledAgainstAConnectionPerRequest() async throws {
        try await withServer { server, client in
            _ = try await client.create(BuiltinKinds.configMap, namespace: "default", object: configMap("measured"), options: writer)
            let count = 300
            let clock = ContinuousClock()
            let pooled = try await clock.measure {
                for _ in 0..<count { _ = try await client.get(BuiltinKinds.configMap, namespace: "default", name: "measured") }
            }
            let fresh = try await clock.measure {
                for _ in 0..<count {
                    let single = try HTTPClusterClient.fromKubeconfig(path: server.kubeconfig)
                    _ = try await single.get(BuiltinKinds.configMap, namespace: "default", name: "measured")
                    await single.shutdown()
                }
            }
            let burst = try await clock.measure {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<(count * 2) {
                        group.addTask { _ = try await client.get(BuiltinKinds.configMap, namespace: "default", name: "measured") }
                    }
                    try await group.waitForAll()
                }
            }
            func perRequest(_ duration: Duration, _ n: Int) -> String {
                String(
                    format: "%.2f ms",
                    Double(duration.components.attoseconds / 1_000_000_000_000_000 + duration.components.seconds * 1000) / Double(n))
            }
            let ratio =
                Double(fresh.components.seconds * 1000 + fresh.components.attoseconds / 1_000_000_000_000_000)
                / Double(max(1, pooled.components.seconds * 1000 + pooled.components.attoseconds / 1_000_000_000_000_000))
            print(
                """
                HTTPClusterClient GET over TLS, \(count) sequential: pooled keep-alive \(perRequest(pooled, count))/request, \
                new connection each \(perRequest(fresh, count))/request (\(String(format: "%.1f", ratio))x); \
                \(count * 2) concurrent on \(await client.openPooledConnections) connections: \(perRequest(burst, count * 2))/request
                """)
            #expect(await client.openPooledConnections <= client.configuration.maxConnections)
        }
    }
}
