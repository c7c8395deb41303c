import CapstanStore
import Foundation
import Testing

/// Compare-and-swap transactions, the basis of optimistic concurrency.
@Suite struct TxnConformanceTests {
    @Test(arguments: Backend.allCases)
    func compareAndSwapOnModRevisionSucceedsOnceThenFails(backend: Backend) async throws {
        try await backend.withStore { store in
            let written = try await store.put(PutRequest(key: "obj".bytes, value: "v1".bytes)).revision
            let swap = TxnRequest(
                compare: [Compare(key: "obj".bytes, .modRevision(written), .equal)],
                success: [.put(PutRequest(key: "obj".bytes, value: "v2".bytes))],
                failure: [.range(RangeRequest(.single("obj".bytes)))])
            let first = try await store.txn(swap)
            #expect(first.succeeded)
            #expect(first.revision == written + 1)

            let second = try await store.txn(swap)
            #expect(!second.succeeded)
            #expect(second.revision == written + 1)
            guard case .range(let current)? = second.results.first else {
                Issue.record("failure branch should answer with its range")
                return
            }
            #expect(current.kvs.first?.value == "v2".bytes)
        }
    }

    @Test(arguments: Backend.allCases)
    func createOnlyIfAbsentUsesCreateRevisionZero(backend: Backend) async throws {
        try await backend.withStore { store in
            let create = TxnRequest(
                compare: [Compare(key: "lock".bytes, .createRevision(0), .equal)],
                success: [.put(PutRequest(key: "lock".bytes, value: "owner-1".bytes))])
            let first = try await store.txn(create)
            let second = try await store.txn(create)
            #expect(first.succeeded)
            #expect(!second.succeeded)
            let lock = try await store.range(RangeRequest(.single("lock".bytes)))
            #expect(lock.kvs.first?.value == "owner-1".bytes)
        }
    }

    @Test(arguments: Backend.allCases)
    func comparisonsOnValueVersionAndLease(backend: Backend) async throws {
        try await backend.withStore { store in
            let lease = try await store.grantLease(ttl: 3600, id: 0)
            _ = try await store.put(PutRequest(key: "k".bytes, value: "b".bytes, lease: lease.id))
            _ = try await store.put(PutRequest(key: "k".bytes, value: "b".bytes, lease: lease.id))
            let cases: [(Compare, Bool)] = [
                (Compare(key: "k".bytes, .value("b".bytes), .equal), true),
                (Compare(key: "k".bytes, .value("a".bytes), .greater), true),
                (Compare(key: "k".bytes, .value("c".bytes), .less), true),
                (Compare(key: "k".bytes, .value("b".bytes), .notEqual), false),
                (Compare(key: "k".bytes, .version(2), .equal), true),
                (Compare(key: "k".bytes, .version(1), .greater), true),
                (Compare(key: "k".bytes, .lease(lease.id), .equal), true),
                (Compare(key: "k".bytes, .lease(0), .equal), false),
                (Compare(key: "missing".bytes, .value(Data()), .equal), false),
                (Compare(key: "missing".bytes, .version(0), .equal), true),
                (Compare(.prefix("k".bytes), .version(0), .greater), true),
            ]
            for (compare, expected) in cases {
                let result = try await store.txn(TxnRequest(compare: [compare]))
                #expect(result.succeeded == expected, "\(compare)")
            }
        }
    }

    @Test(arguments: Backend.allCases)
    func allWritesOfATxnShareOneRevisionAndReadsSeeThem(backend: Backend) async throws {
        try await backend.withStore { store in
            _ = try await store.put(PutRequest(key: "old".bytes, value: "x".bytes))
            let before = try await store.status().revision
            let result = try await store.txn(
                TxnRequest(success: [
                    .put(PutRequest(key: "t/1".bytes, value: "1".bytes)),
                    .put(PutRequest(key: "t/2".bytes, value: "2".bytes)),
                    .delete(DeleteRequest(.single("old".bytes))),
                    .range(RangeRequest(.prefix("t/".bytes))),
                ]))
            #expect(result.succeeded)
            #expect(result.revision == before + 1)
            guard case .range(let inside)? = result.results.last else {
                Issue.record("expected a range result last")
                return
            }
            #expect(inside.kvs.map(\.key.text) == ["t/1", "t/2"])
            let kvs = try await store.range(RangeRequest(.all)).kvs
            #expect(kvs.map(\.key.text) == ["t/1", "t/2"])
            #expect(kvs.allSatisfy { $0.modRevision == before + 1 })
        }
    }

    @Test(arguments: Backend.allCases)
    func aFailingOperationUndoesTheWholeTxn(backend: Backend) async throws {
        try await backend.withStore { store in
            let before = try await store.status().revision
            await #expect(throws: StoreError.self) {
                try await store.txn(
                    TxnRequest(success: [
                        .put(PutRequest(key: "first".bytes, value: "1".bytes)),
                        .put(PutRequest(key: "second".bytes, value: "2".bytes, lease: 0x7777)),
                    ]))
            }
            #expect(try await store.range(RangeRequest(.all)).count == 0)
            #expect(try await store.status().revision == before)
        }
    }

    @Test(arguments: Backend.allCases)
    func concurrentCompareAndSwapLetsExactlyOneWriterWinEachRound(backend: Backend) async throws {
        try await backend.withStore { store in
            _ = try await store.put(PutRequest(key: "counter".bytes, value: "0".bytes))
            let wins = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        var won = 0
                        for _ in 0..<10 {
                            let current = try #require(try await store.range(RangeRequest(.single("counter".bytes))).kvs.first)
                            let next = (Int(current.value.text) ?? 0) + 1
                            let result = try await store.txn(
                                TxnRequest(
                                    compare: [Compare(key: "counter".bytes, .modRevision(current.modRevision), .equal)],
                                    success: [.put(PutRequest(key: "counter".bytes, value: "\(next)".bytes))]))
                            if result.succeeded { won += 1 }
                        }
                        return won
                    }
                }
                return try await group.reduce(0, +)
            }
            let final = try #require(try await store.range(RangeRequest(.single("counter".bytes))).kvs.first)
            #expect(Int(final.value.text) == wins)
            #expect(final.version == Int64(wins) + 1)
        }
    }
}
