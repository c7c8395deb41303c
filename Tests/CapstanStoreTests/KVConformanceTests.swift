import CapstanStore
import Foundation
import Testing

/// Key-value semantics every backend must share.
@Suite struct KVConformanceTests {
    @Test(arguments: Backend.allCases)
    func everyWriteGetsTheNextRevisionAndKeysTrackTheirVersions(backend: Backend) async throws {
        try await backend.withStore { store in
            let start = try await store.status().revision
            let first = try await store.put(PutRequest(key: "a".bytes, value: "1".bytes))
            let second = try await store.put(PutRequest(key: "b".bytes, value: "2".bytes))
            let third = try await store.put(PutRequest(key: "a".bytes, value: "3".bytes, returnPrevious: true))
            #expect([first.revision, second.revision, third.revision] == [start + 1, start + 2, start + 3])
            #expect(third.previous?.value == "1".bytes)

            let a = try #require(try await store.range(RangeRequest(.single("a".bytes))).kvs.first)
            #expect(a.value == "3".bytes)
            #expect(a.createRevision == first.revision)
            #expect(a.modRevision == third.revision)
            #expect(a.version == 2)
            #expect(a.lease == 0)
        }
    }

    @Test(arguments: Backend.allCases)
    func rangesSelectKeysPrefixesIntervalsAndOpenEnds(backend: Backend) async throws {
        try await backend.withStore { store in
            for key in ["app/1", "app/2", "app/3", "apps", "b/1"] {
                _ = try await store.put(PutRequest(key: key.bytes, value: "v-\(key)".bytes))
            }
            func keys(_ request: RangeRequest) async throws -> [String] {
                try await store.range(request).kvs.map(\.key.text)
            }
            #expect(try await keys(RangeRequest(.prefix("app/".bytes))) == ["app/1", "app/2", "app/3"])
            #expect(try await keys(RangeRequest(KeyRange(key: "app/2".bytes, rangeEnd: "b".bytes))) == ["app/2", "app/3", "apps"])
            #expect(try await keys(RangeRequest(.from("apps".bytes))) == ["apps", "b/1"])
            #expect(try await keys(RangeRequest(.all)) == ["app/1", "app/2", "app/3", "apps", "b/1"])
            #expect(try await keys(RangeRequest(.single("missing".bytes))) == [])

            let limited = try await store.range(RangeRequest(.prefix("app".bytes), limit: 2))
            #expect(limited.kvs.map(\.key.text) == ["app/1", "app/2"])
            #expect(limited.more)
            #expect(limited.count == 4)

            let counted = try await store.range(RangeRequest(.prefix("app/".bytes), countOnly: true))
            #expect(counted.kvs.isEmpty)
            #expect(counted.count == 3)

            let keysOnly = try await store.range(RangeRequest(.prefix("app/".bytes), keysOnly: true))
            #expect(keysOnly.kvs.allSatisfy { $0.value.isEmpty && $0.version == 1 })

            let descending = try await keys(RangeRequest(.prefix("app/".bytes), sortOrder: .descending, sortTarget: .key))
            #expect(descending == ["app/3", "app/2", "app/1"])
            _ = try await store.put(PutRequest(key: "app/1".bytes, value: "newest".bytes))
            let byModification = try await keys(
                RangeRequest(.prefix("app/".bytes), limit: 1, sortOrder: .descending, sortTarget: .modRevision))
            #expect(byModification == ["app/1"])
        }
    }

    @Test(arguments: Backend.allCases)
    func pastRevisionsReadAsTheyWere(backend: Backend) async throws {
        try await backend.withStore { store in
            let v1 = try await store.put(PutRequest(key: "k".bytes, value: "v1".bytes)).revision
            let v2 = try await store.put(PutRequest(key: "k".bytes, value: "v2".bytes)).revision
            let deleted = try await store.delete(DeleteRequest(.single("k".bytes)))
            #expect(deleted.deleted == 1)
            #expect(deleted.revision == v2 + 1)

            #expect(try await store.range(RangeRequest(.single("k".bytes), revision: v1)).kvs.map(\.value) == ["v1".bytes])
            let atV2 = try #require(try await store.range(RangeRequest(.single("k".bytes), revision: v2)).kvs.first)
            #expect(atV2.value == "v2".bytes)
            #expect(atV2.version == 2)
            #expect(atV2.createRevision == v1)
            #expect(try await store.range(RangeRequest(.single("k".bytes), revision: deleted.revision)).kvs.isEmpty)
            #expect(try await store.range(RangeRequest(.single("k".bytes))).kvs.isEmpty)
            #expect(try await store.range(RangeRequest(.prefix("k".bytes), revision: v1, countOnly: true)).count == 1)

            // Re-created keys start over at version 1.
            let again = try await store.put(PutRequest(key: "k".bytes, value: "v3".bytes)).revision
            let recreated = try #require(try await store.range(RangeRequest(.single("k".bytes))).kvs.first)
            #expect(recreated.version == 1)
            #expect(recreated.createRevision == again)
        }
    }

    @Test(arguments: Backend.allCases)
    func deletingARangeUsesOneRevisionAndReturnsWhatWasThere(backend: Backend) async throws {
        try await backend.withStore { store in
            for index in 1...3 { _ = try await store.put(PutRequest(key: "d/\(index)".bytes, value: "\(index)".bytes)) }
            _ = try await store.put(PutRequest(key: "e".bytes, value: "stays".bytes))
            let before = try await store.status().revision
            let result = try await store.delete(DeleteRequest(.prefix("d/".bytes), returnPrevious: true))
            #expect(result.deleted == 3)
            #expect(result.revision == before + 1)
            #expect(result.previous.map(\.value.text).sorted() == ["1", "2", "3"])
            #expect(try await store.range(RangeRequest(.all)).kvs.map(\.key.text) == ["e"])

            let nothing = try await store.delete(DeleteRequest(.prefix("d/".bytes)))
            #expect(nothing.deleted == 0)
            #expect(try await store.status().revision == before + 1)
        }
    }

    @Test(arguments: Backend.allCases)
    func putCanKeepTheValueOrLease(backend: Backend) async throws {
        try await backend.withStore { store in
            _ = try await store.put(PutRequest(key: "k".bytes, value: "kept".bytes))
            _ = try await store.put(PutRequest(key: "k".bytes, value: Data(), ignoreValue: true))
            let kv = try #require(try await store.range(RangeRequest(.single("k".bytes))).kvs.first)
            #expect(kv.value == "kept".bytes)
            #expect(kv.version == 2)
        }
    }

    @Test(arguments: Backend.allCases)
    func binaryKeysAndValuesRoundTrip(backend: Backend) async throws {
        try await backend.withStore { store in
            let key = Data([0x00, 0xff, 0x10, 0x00])
            let value = Data((0...255).map { UInt8($0) })
            _ = try await store.put(PutRequest(key: key, value: value))
            _ = try await store.put(PutRequest(key: Data([0xff, 0xff]), value: Data()))
            #expect(try await store.range(RangeRequest(.single(key))).kvs.first?.value == value)
            #expect(try await store.range(RangeRequest(.prefix(Data([0xff])))).kvs.map(\.key) == [Data([0xff, 0xff])])
            #expect(try await store.range(RangeRequest(.single(Data([0xff, 0xff])))).kvs.first?.value == Data())
        }
    }
}
