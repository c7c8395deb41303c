import CapstanStore
import Foundation
import Testing

/// Compaction: history before the point is gone, with explicit errors.
@Suite struct CompactionConformanceTests {
    @Test(arguments: Backend.allCases)
    func compactedRevisionsAreExplicitErrorsAndLatestValuesStay(backend: Backend) async throws {
        try await backend.withStore { store in
            let first = try await store.put(PutRequest(key: "k".bytes, value: "1".bytes)).revision
            _ = try await store.put(PutRequest(key: "gone".bytes, value: "x".bytes))
            _ = try await store.delete(DeleteRequest(.single("gone".bytes)))
            let last = try await store.put(PutRequest(key: "k".bytes, value: "2".bytes)).revision
            try await store.compact(last)

            await #expect {
                try await store.range(RangeRequest(.single("k".bytes), revision: first))
            } throws: { error in
                guard case StoreError.compacted = error else { return false }
                return true
            }
            await #expect {
                try await store.watch(WatchRequest(.single("k".bytes), startRevision: first))
            } throws: { error in
                guard case StoreError.compacted = error else { return false }
                return true
            }
            await #expect {
                try await store.compact(last)
            } throws: { error in
                guard case StoreError.compacted = error else { return false }
                return true
            }
            await #expect {
                try await store.compact(last + 100)
            } throws: { error in
                guard case StoreError.futureRevision = error else { return false }
                return true
            }
            let kvs = try await store.range(RangeRequest(.all)).kvs
            #expect(kvs.map(\.key.text) == ["k"])
            #expect(kvs.first?.version == 2)
            #expect(try await store.range(RangeRequest(.single("k".bytes), revision: last)).kvs.first?.value == "2".bytes)

            // A watch may start exactly at the compaction point.
            let stream = try await store.watch(WatchRequest(.single("k".bytes), startRevision: last))
            defer { stream.cancel() }
            #expect(try await collectEvents(stream, count: 1).map(\.revision) == [last])
        }
    }
}
