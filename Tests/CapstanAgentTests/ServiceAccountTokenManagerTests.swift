import CapstanAPI
import CapstanAPIServer
import CapstanCore
import CapstanTesting
import Foundation
import OrderedCollections
import Testing

@testable import CapstanAgent

/// The agent's cache of bound tokens, against a real registry and token signer.
@Suite struct ServiceAccountTokenManagerTests {
    @Test func aTokenIsKeptUntil80PercentOfItsLifetimeThenRenewed() async throws {
        try await withInProcessServer(prefix: "capstan-tokens") { server, _ in
            let client = server.client
            let writer = WriteOptions(fieldManager: "test")
            _ = try await client.create(
                BuiltinKinds.serviceAccount, namespace: "default",
                object: ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": "default"]],
                options: writer)
            let created = try await client.create(
                BuiltinKinds.pod, namespace: "default",
                object: ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p"], "spec": ["containers": [["name": "c", "image": "busybox"]]]],
                options: writer)
            let pod = Pod(json: try #require(created.objectValue))
            let clock = ManualClock()
            let tokens = ServiceAccountTokenManager(client: client, wallClock: clock)
            let source: JSONValue = ["expirationSeconds": 3600, "path": "token"]

            let first = try await tokens.token(for: pod, source: source)
            #expect(String(decoding: first, as: UTF8.self).split(separator: ".").count == 3)
            clock.advance(by: .seconds(2800))  // 78% of an hour: the same token
            #expect(try await tokens.token(for: pod, source: source) == first)
            clock.advance(by: .seconds(100))  // past 80%: a new one
            let second = try await tokens.token(for: pod, source: source)
            #expect(second != first)
            // Another audience is another token; a forgotten pod asks afresh.
            let audience = try await tokens.token(for: pod, source: ["audience": "vault", "expirationSeconds": 3600, "path": "vault"])
            #expect(audience != second)
            await tokens.forget(podUID: pod.metadata.uid ?? "")
            #expect(try await tokens.token(for: pod, source: source) != second)

            // An account that does not exist: the volume cannot be set up, and says why.
            var other = pod
            other.spec.serviceAccountName = "nobody"
            await #expect {
                _ = try await tokens.token(for: other, source: source)
            } throws: { error in
                "\(error)".hasPrefix("failed to fetch token: ") && "\(error)".contains(#"serviceaccounts "nobody" not found"#)
            }
        }
    }
}
