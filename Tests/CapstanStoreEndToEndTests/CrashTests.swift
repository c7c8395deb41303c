import CapstanStore
import CapstanTestSupport
import Foundation
import Synchronization
import Testing

/// `kill -9` at random points while clients write: nothing acknowledged is
/// lost, revisions stay gap-free, the database stays intact.
@Suite struct CrashTests {
    static let rounds = 20
    static let writers = 8

    /// Acknowledged writes: key → the revision the server answered with.
    final class Acknowledged: Sendable {
        let writes = Mutex<[Data: Revision]>([:])
        func record(_ key: Data, _ revision: Revision) { writes.withLock { $0[key] = revision } }
        var all: [Data: Revision] { writes.withLock { $0 } }
    }

    @Test(.timeLimit(.minutes(3)))
    func acknowledgedWritesSurviveKillNineAtRandomPoints() async throws {
        try await TemporaryDirectory.with { directory in
            let data = directory.appending("data")
            let acknowledged = Acknowledged()
            var generator = SystemRandomNumberGenerator()
            for round in 0..<Self.rounds {
                let server = try await CapstanStoreServer(
                    dataDirectory: data, logPath: directory.appending("server-\(round).log"))
                defer { server.kill() }
                try await EtcdStore.withConnection(host: "127.0.0.1", port: server.port, logger: testLogger) { store in
                    try await verify(store, acknowledged: acknowledged, round: round)
                    // Writers run until the server dies under them.
                    let killAfter = Duration.milliseconds(Int.random(in: 20...300, using: &generator))
                    let before = acknowledged.all.count
                    await withTaskGroup(of: Void.self) { group in
                        for writer in 0..<Self.writers {
                            group.addTask {
                                var index = 0
                                while !Task.isCancelled {
                                    let key = Data("r\(round)/w\(writer)/\(index)".utf8)
                                    do {
                                        let revision = try await store.put(PutRequest(key: key, value: Data(count: 256))).revision
                                        acknowledged.record(key, revision)
                                    } catch {
                                        return
                                    }
                                    index += 1
                                }
                            }
                        }
                        // The kill comes at a random point after every writer has had a write acknowledged
                        // (bounded), so each round tests writes in flight even on a loaded machine.
                        let clock = ContinuousClock()
                        let deadline = clock.now + .seconds(30)
                        while acknowledged.all.count < before + Self.writers, clock.now < deadline {
                            try? await Task.sleep(for: .milliseconds(5))
                        }
                        try? await Task.sleep(for: killAfter)
                        server.kill()
                        group.cancelAll()
                    }
                }
                let check = try await runCommand(
                    "/usr/bin/sqlite3", [(data as NSString).appendingPathComponent(SQLiteStore.fileName), "PRAGMA integrity_check"])
                #expect(check.output == "ok\n", "integrity_check after round \(round): \(check.output)")
            }
            // One last restart to check the final round's writes.
            let server = try await CapstanStoreServer(dataDirectory: data, logPath: directory.appending("server-final.log"))
            defer { server.kill() }
            try await EtcdStore.withConnection(host: "127.0.0.1", port: server.port, logger: testLogger) { store in
                try await verify(store, acknowledged: acknowledged, round: Self.rounds)
            }
            #expect(acknowledged.all.count > Self.rounds * Self.writers)
        }
    }

    /// Every acknowledged write is there at its revision, and the history
    /// holds every revision from the first to the latest exactly once.
    func verify(_ store: any Store, acknowledged: Acknowledged, round: Int) async throws {
        let expected = acknowledged.all
        let latest = try await store.status().revision
        let stream = try await store.watch(WatchRequest(.all, startRevision: 1))
        defer { stream.cancel() }
        var seen: [Data: Revision] = [:]
        var revisions: [Revision] = []
        while revisions.last ?? 1 < latest, let batch = try await stream.next() {
            for event in batch.events {
                seen[event.kv.key] = event.revision
                revisions.append(event.revision)
            }
        }
        // The first write of a fresh store is revision 2, as in etcd.
        let everyRevision = latest >= 2 ? Array(Revision(2)...latest) : []
        #expect(revisions == everyRevision, "round \(round): revisions not gap-free")
        let missing = expected.filter { seen[$0.key] != $0.value }
        #expect(missing.isEmpty, "round \(round): \(missing.count) acknowledged writes lost or at the wrong revision")
        let current = try await store.range(RangeRequest(.all, countOnly: true)).count
        #expect(current == Int64(seen.count))
    }
}
