import CapstanStore
import CapstanTestSupport
import Foundation
import Testing

/// Ordered, exactly-once change feeds.
@Suite struct WatchConformanceTests {
    @Test(arguments: Backend.allCases)
    func watchFromAPastRevisionReplaysEveryEventInOrderThenGoesLive(backend: Backend) async throws {
        try await backend.withStore { store in
            let start = try await store.put(PutRequest(key: "w/a".bytes, value: "1".bytes)).revision
            _ = try await store.put(PutRequest(key: "other".bytes, value: "ignored".bytes))
            _ = try await store.put(PutRequest(key: "w/a".bytes, value: "2".bytes))
            _ = try await store.delete(DeleteRequest(.single("w/a".bytes)))
            _ = try await store.put(PutRequest(key: "w/b".bytes, value: "3".bytes))

            let stream = try await store.watch(WatchRequest(.prefix("w/".bytes), startRevision: start, includePrevious: true))
            defer { stream.cancel() }
            let history = try await collectEvents(stream, count: 4)
            #expect(history.map(\.kind) == [.put, .put, .delete, .put])
            #expect(history.map(\.kv.key.text) == ["w/a", "w/a", "w/a", "w/b"])
            #expect(history.map(\.revision) == [start, start + 2, start + 3, start + 4])
            #expect(history[1].previous?.value == "1".bytes)
            #expect(history[2].previous?.value == "2".bytes)
            #expect(history[2].kv.value.isEmpty)
            #expect(history[3].previous == nil)

            let live = try await store.put(PutRequest(key: "w/c".bytes, value: "4".bytes)).revision
            let next = try await collectEvents(stream, count: 1)
            #expect(next.map(\.revision) == [live])
        }
    }

    @Test(arguments: Backend.allCases)
    func aWatchFromNowSeesOnlyLaterWritesExactlyOnce(backend: Backend) async throws {
        try await backend.withStore { store in
            _ = try await store.put(PutRequest(key: "k".bytes, value: "before".bytes))
            let stream = try await store.watch(WatchRequest(.single("k".bytes)))
            defer { stream.cancel() }
            var revisions: [Revision] = []
            for index in 0..<50 {
                revisions.append(try await store.put(PutRequest(key: "k".bytes, value: "\(index)".bytes)).revision)
            }
            let events = try await collectEvents(stream, count: 50)
            #expect(events.map(\.revision) == revisions)
            #expect(events.map(\.kv.value.text) == (0..<50).map(String.init))
            #expect(events.allSatisfy { $0.previous == nil })
        }
    }

    @Test(arguments: Backend.allCases)
    func concurrentWritersAreSeenInRevisionOrderWithoutGaps(backend: Backend) async throws {
        try await backend.withStore { store in
            let stream = try await store.watch(WatchRequest(.prefix("c/".bytes)))
            defer { stream.cancel() }
            let writers = 8
            let perWriter = 25
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<writers {
                    group.addTask {
                        for index in 0..<perWriter {
                            _ = try await store.put(PutRequest(key: "c/\(writer)/\(index)".bytes, value: Data(count: 64)))
                        }
                    }
                }
                try await group.waitForAll()
            }
            let events = try await collectEvents(stream, count: writers * perWriter)
            let revisions = events.map(\.revision)
            #expect(revisions == Array(revisions[0]..<(revisions[0] + Revision(writers * perWriter))))
            #expect(Set(events.map(\.kv.key)).count == writers * perWriter)
        }
    }

    @Test(arguments: Backend.allCases)
    func progressRequestsAnswerWithAnEmptyBatch(backend: Backend) async throws {
        try await backend.withStore { store in
            let written = try await store.put(PutRequest(key: "p".bytes, value: "1".bytes)).revision
            let stream = try await store.watch(WatchRequest(.single("p".bytes)))
            defer { stream.cancel() }
            stream.requestProgress()
            let batch = try #require(try await stream.next())
            #expect(batch.isProgressNotification)
            #expect(batch.headerRevision >= written)
        }
    }

    @Test(arguments: Backend.allCases)
    func watchesCanLeaveOutPutsOrDeletes(backend: Backend) async throws {
        try await backend.withStore { store in
            let deletesOnly = try await store.watch(WatchRequest(.prefix("f/".bytes), skipPuts: true))
            defer { deletesOnly.cancel() }
            _ = try await store.put(PutRequest(key: "f/1".bytes, value: "x".bytes))
            _ = try await store.delete(DeleteRequest(.single("f/1".bytes)))
            let events = try await collectEvents(deletesOnly, count: 1)
            #expect(events.map(\.kind) == [.delete])
        }
    }
}

/// Progress notifications the API server sends on its own.
@Suite struct WatchProgressNotifyTests {
    @Test func watchesAskingForProgressGetPeriodicNotifications() async throws {
        try await TemporaryDirectory.with { directory in
            let store = try SQLiteStore(directory: directory.path, logger: Backend.logger)
            defer { store.close() }
            let written = try await store.put(PutRequest(key: "k".bytes, value: "v".bytes)).revision
            try await withServer(for: store, progressNotifyInterval: .milliseconds(100)) { port in
                try await EtcdStore.withConnection(host: "127.0.0.1", port: port, logger: Backend.logger) { client in
                    let stream = try await client.watch(WatchRequest(.single("k".bytes), progressNotify: true))
                    defer { stream.cancel() }
                    let batch = try #require(try await stream.next())
                    #expect(batch.isProgressNotification)
                    #expect(batch.headerRevision == written)
                }
            }
        }
    }
}
