import CapstanTestSupport
import Foundation
import Testing

/// Debian's real `etcdctl` (API v3) against `capstan store serve`.
@Suite struct EtcdctlTests {
    static let etcdctl = "/usr/bin/etcdctl"

    func etcdctl(_ server: CapstanStoreServer, _ arguments: [String], input: String? = nil) async throws -> String {
        var environment = ProcessInfo.processInfo.environment
        environment["ETCDCTL_API"] = "3"
        let result = try await runCommand(
            Self.etcdctl, ["--endpoints=\(server.endpoint)", "--dial-timeout=3s", "--command-timeout=5s"] + arguments,
            input: input, environment: environment)
        guard result.status == 0 else {
            throw StoreE2EError("etcdctl \(arguments.joined(separator: " ")) exited \(result.status): \(result.output)")
        }
        return result.output
    }

    @Test func putGetDeleteTxnWatchAndLeasesWork() async throws {
        try await TemporaryDirectory.with { directory in
            let server = try await CapstanStoreServer(dataDirectory: directory.appending("data"), logPath: directory.appending("server.log"))
            defer { server.kill() }

            #expect(try await etcdctl(server, ["put", "greeting", "hello"]) == "OK\n")
            #expect(try await etcdctl(server, ["put", "app/a", "1"]) == "OK\n")
            #expect(try await etcdctl(server, ["put", "app/b", "2"]) == "OK\n")
            #expect(try await etcdctl(server, ["get", "--prefix", "app/"]) == "app/a\n1\napp/b\n2\n")
            #expect(try await etcdctl(server, ["del", "app/a"]) == "1\n")
            #expect(try await etcdctl(server, ["get", "--prefix", "app/", "--keys-only"]) == "app/b\n\n")

            let txn = try await etcdctl(server, ["txn"], input: "value(\"greeting\") = \"hello\"\n\nput greeting bonjour\n\nput greeting never\n\n")
            #expect(txn == "SUCCESS\n\nOK\n")
            #expect(try await etcdctl(server, ["get", "greeting", "--print-value-only"]) == "bonjour\n")
            let failed = try await etcdctl(server, ["txn"], input: "value(\"greeting\") = \"hello\"\n\nput greeting never\n\nput other taken\n\n")
            #expect(failed == "FAILURE\n\nOK\n")

            // Watch from the revision of the first write: history, then live events.
            let watchLog = directory.appending("watch.log")
            var environment = ProcessInfo.processInfo.environment
            environment["ETCDCTL_API"] = "3"
            let watch = try ChildProcess(
                executable: Self.etcdctl, arguments: ["--endpoints=\(server.endpoint)", "watch", "--prefix", "app/", "--rev=1"],
                logPath: watchLog, environment: environment)
            defer { watch.kill() }
            _ = try await watch.waitForLog(containing: "PUT\napp/b\n2\n")
            #expect(try await etcdctl(server, ["put", "app/c", "3"]) == "OK\n")
            let watched = try await watch.waitForLog(containing: "app/c\n3\n")
            #expect(watched == "PUT\napp/a\n1\nPUT\napp/b\n2\nDELETE\napp/a\n\nPUT\napp/c\n3\n")

            let grant = try await etcdctl(server, ["lease", "grant", "60"])
            let leaseID = try #require(grant.split(separator: " ").dropFirst().first.map(String.init), "\(grant)")
            #expect(grant == "lease \(leaseID) granted with TTL(60s)\n")
            #expect(try await etcdctl(server, ["put", "--lease=\(leaseID)", "session", "alive"]) == "OK\n")
            #expect(try await etcdctl(server, ["lease", "keep-alive", "--once", leaseID]) == "lease \(leaseID) keepalived with TTL(60)\n")
            let ttl = try await etcdctl(server, ["lease", "timetolive", "--keys", leaseID])
            #expect(ttl.contains("granted with TTL(60s)"))
            #expect(ttl.contains("attached keys([session])"))
            #expect(try await etcdctl(server, ["lease", "list"]).contains(leaseID))
            #expect(try await etcdctl(server, ["lease", "revoke", leaseID]) == "lease \(leaseID) revoked\n")
            #expect(try await etcdctl(server, ["get", "session"]) == "")

            let status = try await etcdctl(server, ["endpoint", "status"])
            #expect(status.contains("3.4.0+capstan"))
        }
    }

    @Test func compactionAndItsErrorsShowThroughEtcdctl() async throws {
        try await TemporaryDirectory.with { directory in
            let server = try await CapstanStoreServer(dataDirectory: directory.appending("data"), logPath: directory.appending("server.log"))
            defer { server.kill() }
            for value in 1...4 { _ = try await etcdctl(server, ["put", "k", "v\(value)"]) }
            #expect(try await etcdctl(server, ["get", "k", "--rev=2", "--print-value-only"]) == "v1\n")
            #expect(try await etcdctl(server, ["compaction", "4"]) == "compacted revision 4\n")
            var environment = ProcessInfo.processInfo.environment
            environment["ETCDCTL_API"] = "3"
            let old = try await runCommand(
                Self.etcdctl, ["--endpoints=\(server.endpoint)", "--command-timeout=5s", "get", "k", "--rev=2"],
                environment: environment)
            #expect(old.status != 0)
            #expect(old.output.contains("required revision has been compacted"))
            #expect(try await etcdctl(server, ["get", "k", "--print-value-only"]) == "v4\n")

            // Compaction at 4 keeps revision 4: a watch from exactly there replays it,
            // as etcd does; one from 3 is told the history is gone. (etcdctl watch runs
            // until stopped, so it is bounded and its output read afterwards.)
            let fromCompaction = try await runCommand(
                Self.etcdctl, ["--endpoints=\(server.endpoint)", "watch", "k", "--rev=4"], environment: environment, timeout: .seconds(3))
            #expect(fromCompaction.output.hasPrefix("PUT\nk\nv3\nPUT\nk\nv4\n"), "\(fromCompaction.output)")
            let beforeCompaction = try await runCommand(
                Self.etcdctl, ["--endpoints=\(server.endpoint)", "watch", "k", "--rev=3"], environment: environment, timeout: .seconds(3))
            #expect(beforeCompaction.output.contains("required revision has been compacted"), "\(beforeCompaction.output)")
        }
    }

    @Test func sigtermStopsTheServerGracefully() async throws {
        try await TemporaryDirectory.with { directory in
            let server = try await CapstanStoreServer(dataDirectory: directory.appending("data"), logPath: directory.appending("server.log"))
            _ = try await etcdctl(server, ["put", "k", "v"])
            server.kill(signal: SIGTERM)
            #expect(!server.process.terminatedBySignal)
            #expect(server.process.terminationStatus == 0, "\(server.process.log)")
            let restarted = try await CapstanStoreServer(dataDirectory: directory.appending("data"), logPath: directory.appending("server2.log"))
            defer { restarted.kill() }
            #expect(try await etcdctl(restarted, ["get", "k", "--print-value-only"]) == "v\n")
        }
    }
}

struct StoreE2EError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
