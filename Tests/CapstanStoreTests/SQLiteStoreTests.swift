import CapstanStore
import CapstanTestSupport
import Foundation
import Testing

/// Behaviour specific to the embedded SQLite backend: persistence, space,
/// watcher back-pressure, refusal to write when the file cannot be written.
@Suite struct SQLiteStoreTests {
    func open(_ directory: TemporaryDirectory, options: SQLiteStore.Options = .init()) throws -> SQLiteStore {
        try SQLiteStore(directory: directory.path, options: options, logger: Backend.logger)
    }

    @Test func writesAndRevisionsSurviveReopening() async throws {
        try await TemporaryDirectory.with { directory in
            var store = try open(directory)
            _ = try await store.put(PutRequest(key: "a".bytes, value: "1".bytes))
            let last = try await store.put(PutRequest(key: "a".bytes, value: "2".bytes)).revision
            store.close()

            store = try open(directory)
            defer { store.close() }
            let kv = try #require(try await store.range(RangeRequest(.single("a".bytes))).kvs.first)
            #expect(kv.value == "2".bytes)
            #expect(kv.version == 2)
            let next = try await store.put(PutRequest(key: "b".bytes, value: "3".bytes)).revision
            #expect(next == last + 1)
            #expect(try await store.range(RangeRequest(.single("a".bytes), revision: last - 1)).kvs.first?.value == "1".bytes)
        }
    }

    @Test func leaseExpiryIsKeptAcrossRestarts() async throws {
        try await TemporaryDirectory.with { directory in
            var store = try open(directory)
            _ = try await attachToShortLease(store, key: "ephemeral".bytes)
            store.close()
            try await Task.sleep(for: .milliseconds(2200))

            store = try open(directory)
            defer { store.close() }
            let expired = await eventually {
                try await store.range(RangeRequest(.single("ephemeral".bytes))).kvs.isEmpty
            }
            #expect(expired)
            let leases = try await store.leases()
            #expect(leases.isEmpty)
        }
    }

    @Test func compactionReclaimsDiskSpace() async throws {
        try await TemporaryDirectory.with { directory in
            let store = try open(directory, options: .init(durability: .normal))
            defer { store.close() }
            let value = Data(repeating: 0x61, count: 16 * 1024)
            var last: Revision = 0
            for _ in 0..<300 { last = try await store.put(PutRequest(key: "big".bytes, value: value)).revision }
            let before = try await store.status().sizeOnDisk
            try await store.compact(last)
            let after = try await store.status().sizeOnDisk
            #expect(before > 4_000_000)
            #expect(after < before / 4, "size on disk \(before) → \(after) bytes")
            #expect(try await store.range(RangeRequest(.single("big".bytes))).kvs.first?.value == value)
        }
    }

    @Test func aSlowWatcherNeverBlocksWritersAndStillGetsEveryEventOnce() async throws {
        try await TemporaryDirectory.with { directory in
            let store = try open(directory, options: .init(watchBufferLimit: .init(events: 16, bytes: 1 << 20)))
            defer { store.close() }
            let stream = try await store.watch(WatchRequest(.prefix("s/".bytes)))
            defer { stream.cancel() }
            // Nobody reads the stream while 8 writers put 2,000 keys: the
            // writes must all complete regardless.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        for index in 0..<250 {
                            _ = try await store.put(PutRequest(key: "s/\(writer)/\(index)".bytes, value: Data(count: 32)))
                        }
                    }
                }
                try await group.waitForAll()
            }
            let events = try await collectEvents(stream, count: 2000)
            let revisions = events.map(\.revision)
            #expect(events.count == 2000)
            #expect(revisions == Array(revisions[0]..<(revisions[0] + 2000)))
        }
    }

    @Test func aWatcherThatFellBehindACompactionIsCancelledWithTheReason() async throws {
        try await TemporaryDirectory.with { directory in
            let store = try open(directory, options: .init(watchBufferLimit: .init(events: 16, bytes: 1 << 20)))
            defer { store.close() }
            let stream = try await store.watch(WatchRequest(.prefix("s/".bytes)))
            defer { stream.cancel() }
            var last: Revision = 0
            for index in 0..<100 { last = try await store.put(PutRequest(key: "s/\(index)".bytes, value: Data())).revision }
            try await store.compact(last)
            var cancellation: WatchCancellation?
            while let batch = try await stream.next() {
                if let reason = batch.cancellation {
                    cancellation = reason
                    break
                }
            }
            #expect(cancellation?.compactRevision == last)
            #expect(cancellation?.reason.contains("compacted") == true)
            #expect(try await stream.next() == nil)
        }
    }

    @Test func concurrentWritersAreGroupCommittedWithDistinctGapFreeRevisions() async throws {
        try await TemporaryDirectory.with { directory in
            let store = try open(directory)
            defer { store.close() }
            let start = try await store.status().revision
            let revisions = try await withThrowingTaskGroup(of: Revision.self) { group in
                for index in 0..<64 {
                    group.addTask { try await store.put(PutRequest(key: "g/\(index)".bytes, value: Data(count: 256))).revision }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(revisions.sorted() == Array((start + 1)...(start + 64)))
            #expect(try await store.status().revision == start + 64)
        }
    }

    @Test func aReadOnlyDatabaseFileRefusesWritesClearlyAndServesReads() async throws {
        try await TemporaryDirectory.with { directory in
            var store = try open(directory)
            _ = try await store.put(PutRequest(key: "k".bytes, value: "v".bytes))
            store.close()
            let file = directory.appending(SQLiteStore.fileName)
            // Root ignores permission bits; the immutable attribute binds even root.
            let locked = try await runCommand("/usr/bin/chattr", ["+i", file])
            try #require(locked.status == 0, "chattr +i failed: \(locked.output)")
            defer { _ = try? FileManager.default.setAttributes([:], ofItemAtPath: file) }
            do {
                store = try open(directory)
                defer { store.close() }
                #expect(try await store.range(RangeRequest(.single("k".bytes))).kvs.first?.value == "v".bytes)
                await #expect {
                    try await store.put(PutRequest(key: "k".bytes, value: "new".bytes))
                } throws: { error in
                    guard case StoreError.notWritable(let reason) = error else { return false }
                    return reason.contains("readonly") || reason.contains("read-only") || reason.contains("read only")
                }
                #expect(try await store.range(RangeRequest(.single("k".bytes))).kvs.first?.value == "v".bytes)
            } catch {
                _ = try await runCommand("/usr/bin/chattr", ["-i", file])
                throw error
            }
            _ = try await runCommand("/usr/bin/chattr", ["-i", file])
        }
    }

    @Test func aDatabaseFromANewerCapstanIsRefused() async throws {
        try await TemporaryDirectory.with { directory in
            let store = try open(directory)
            store.close()
            let file = directory.appending(SQLiteStore.fileName)
            let edit = try await runCommand("/usr/bin/sqlite3", [file, "UPDATE schema_version SET version = 99"])
            try #require(edit.status == 0, "sqlite3 failed: \(edit.output)")
            #expect {
                try open(directory)
            } throws: { error in
                guard case StoreError.backend(let reason) = error else { return false }
                return reason.contains("newer")
            }
        }
    }
}

/// Automatic compaction as a service.
@Suite struct AutoCompactorTests {
    @Test func keepsTheLastRevisionsAndCompactsTheRest() async throws {
        try await TemporaryDirectory.with { directory in
            let store = try SQLiteStore(directory: directory.path, logger: Backend.logger)
            defer { store.close() }
            var last: Revision = 0
            for index in 0..<20 { last = try await store.put(PutRequest(key: "k".bytes, value: "\(index)".bytes)).revision }
            let compactor = AutoCompactor(
                store: store, policy: .keepRevisions(5), logger: Backend.logger, checkInterval: .milliseconds(20))
            let compacted = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    try await compactor.run()
                    return false
                }
                let reached = await eventually {
                    try await store.status().compactRevision == last - 5
                }
                group.cancelAll()
                return reached
            }
            #expect(compacted)
            await #expect(throws: StoreError.self) { try await store.range(RangeRequest(.single("k".bytes), revision: last - 6)) }
            #expect(try await store.range(RangeRequest(.single("k".bytes), revision: last - 5)).kvs.first?.value == "14".bytes)
        }
    }

    @Test func periodicModeCompactsToTheRevisionSeenOnePeriodAgo() async throws {
        try await TemporaryDirectory.with { directory in
            let store = try SQLiteStore(directory: directory.path, logger: Backend.logger)
            defer { store.close() }
            let early = try await store.put(PutRequest(key: "k".bytes, value: "early".bytes)).revision
            let compactor = AutoCompactor(
                store: store, policy: .keepDuration(.milliseconds(200)), logger: Backend.logger,
                checkInterval: .milliseconds(20))
            let compacted = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    try await compactor.run()
                    return false
                }
                try await Task.sleep(for: .milliseconds(100))
                _ = try await store.put(PutRequest(key: "k".bytes, value: "later".bytes))
                let reached = await eventually {
                    try await store.status().compactRevision >= early
                }
                group.cancelAll()
                return reached
            }
            #expect(compacted)
        }
    }
}
