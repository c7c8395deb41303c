import CapstanStore
import Foundation
import Testing

/// Bad requests get precise errors and change nothing.
@Suite struct BadInputTests {
    static let oversized = Data(count: StoreLimits.maxRequestBytes + 100 * 1024)

    @Test(arguments: Backend.allCases)
    func badRequestsAreRefusedAndLeaveTheStoreUnchanged(backend: Backend) async throws {
        try await backend.withStore { store in
            _ = try await store.put(PutRequest(key: "keep".bytes, value: "me".bytes))
            let before = try await store.status().revision

            await #expect(throws: StoreError.self) { try await store.put(PutRequest(key: "big".bytes, value: Self.oversized)) }
            await #expect {
                try await store.put(PutRequest(key: "big".bytes, value: Self.oversized))
            } throws: { error in
                guard case StoreError.requestTooLarge = error else { return false }
                return true
            }
            await #expect {
                try await store.txn(TxnRequest(success: [.put(PutRequest(key: "big".bytes, value: Self.oversized))]))
            } throws: { error in
                guard case StoreError.requestTooLarge = error else { return false }
                return true
            }
            await #expect(throws: StoreError.emptyKey) { try await store.put(PutRequest(key: Data(), value: "v".bytes)) }
            await #expect(throws: StoreError.emptyKey) { try await store.range(RangeRequest(.single(Data()))) }
            await #expect {
                try await store.range(RangeRequest(KeyRange(key: "z".bytes, rangeEnd: "a".bytes)))
            } throws: { error in
                guard case StoreError.invalidRange = error else { return false }
                return true
            }
            await #expect {
                try await store.range(RangeRequest(.single("keep".bytes), revision: before + 1000))
            } throws: { error in
                guard case StoreError.futureRevision = error else { return false }
                return true
            }
            await #expect(throws: StoreError.duplicateKeyInTxn) {
                try await store.txn(
                    TxnRequest(success: [
                        .put(PutRequest(key: "dup".bytes, value: "1".bytes)),
                        .put(PutRequest(key: "dup".bytes, value: "2".bytes)),
                    ]))
            }
            await #expect(throws: StoreError.duplicateKeyInTxn) {
                try await store.txn(
                    TxnRequest(success: [
                        .delete(DeleteRequest(.prefix("d".bytes))),
                        .put(PutRequest(key: "dup".bytes, value: "2".bytes)),
                    ]))
            }
            let tooMany = (0...StoreLimits.maxTxnOperations).map { TxnOperation.put(PutRequest(key: "t\($0)".bytes, value: Data())) }
            await #expect {
                try await store.txn(TxnRequest(success: tooMany))
            } throws: { error in
                guard case StoreError.tooManyTxnOperations = error else { return false }
                return true
            }
            await #expect(throws: StoreError.keyNotFound) {
                try await store.put(PutRequest(key: "absent".bytes, value: Data(), ignoreValue: true))
            }

            #expect(try await store.status().revision == before)
            #expect(try await store.range(RangeRequest(.all)).kvs.map(\.key.text) == ["keep"])
        }
    }
}
