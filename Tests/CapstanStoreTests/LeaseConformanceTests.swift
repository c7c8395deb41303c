import CapstanStore
import Foundation
import Testing

/// Leases: TTLs, keep-alive, revoke, expiry.
@Suite struct LeaseConformanceTests {
    @Test(arguments: Backend.allCases)
    func grantAttachQueryKeepAliveAndRevoke(backend: Backend) async throws {
        try await backend.withStore { store in
            let lease = try await store.grantLease(ttl: 3600, id: 0)
            #expect(lease.id != 0)
            #expect(lease.ttl >= 30)
            _ = try await store.put(PutRequest(key: "l/1".bytes, value: "a".bytes, lease: lease.id))
            _ = try await store.put(PutRequest(key: "l/2".bytes, value: "b".bytes, lease: lease.id))
            _ = try await store.put(PutRequest(key: "free".bytes, value: "c".bytes))

            let info = try await store.leaseInfo(lease.id, includeKeys: true)
            #expect(info.grantedTTL == lease.ttl)
            #expect(info.remainingTTL > 0 && info.remainingTTL <= lease.ttl)
            #expect(info.keys.map(\.text).sorted() == ["l/1", "l/2"])
            #expect(try await store.leases().contains(lease.id))
            #expect(try await store.keepAlive(lease.id) == lease.ttl)

            let watch = try await store.watch(WatchRequest(.prefix("l/".bytes)))
            defer { watch.cancel() }
            let before = try await store.status().revision
            try await store.revokeLease(lease.id)
            let events = try await collectEvents(watch, count: 2)
            #expect(events.map(\.kind) == [.delete, .delete])
            #expect(events.allSatisfy { $0.revision == before + 1 })
            #expect(try await store.range(RangeRequest(.all)).kvs.map(\.key.text) == ["free"])
            let remaining = try await store.leases()
            #expect(!remaining.contains(lease.id))
        }
    }

    @Test(arguments: Backend.allCases)
    func chosenLeaseIDsAreHonouredAndCannotBeReused(backend: Backend) async throws {
        try await backend.withStore { store in
            let lease = try await store.grantLease(ttl: 3600, id: 4242)
            #expect(lease.id == 4242)
            await #expect(
                throws: StoreError.leaseExists(4242),
                performing: {
                    try await store.grantLease(ttl: 3600, id: 4242)
                })
        }
    }

    @Test(arguments: Backend.allCases)
    func unknownLeasesAreRefusedPrecisely(backend: Backend) async throws {
        try await backend.withStore { store in
            let unknown: LeaseID = 0x1234_5678
            await #expect(throws: StoreError.leaseNotFound(unknown)) {
                try await store.put(PutRequest(key: "k".bytes, value: "v".bytes, lease: unknown))
            }
            await #expect(throws: StoreError.leaseNotFound(unknown)) { try await store.keepAlive(unknown) }
            await #expect(throws: StoreError.leaseNotFound(unknown)) { try await store.revokeLease(unknown) }
            await #expect(throws: StoreError.leaseNotFound(unknown)) {
                try await store.leaseInfo(unknown, includeKeys: false)
            }
            let all = try await store.range(RangeRequest(.all))
            #expect(all.count == 0)
        }
    }

    @Test(arguments: Backend.allCases)
    func expiredLeasesDeleteTheirKeysWithWatchEvents(backend: Backend) async throws {
        try await backend.withStore { store in
            // Watch first: on a loaded machine the short lease may run out before a later watch starts.
            let watch = try await store.watch(WatchRequest(.single("ephemeral".bytes)))
            defer { watch.cancel() }
            let lease = try await attachToShortLease(store, key: "ephemeral".bytes)
            let events = try await collectEvents(watch, count: 2, timeout: .seconds(lease.ttl + 30))
            #expect(events.map(\.kind) == [.put, .delete])
            #expect(try await store.range(RangeRequest(.single("ephemeral".bytes))).kvs.isEmpty)
            await #expect(throws: StoreError.leaseNotFound(lease.id)) { try await store.keepAlive(lease.id) }
        }
    }
}

/// Grants a two-second lease and attaches `key` to it. On a loaded machine the
/// lease can run out between the two calls (the store is right to refuse the
/// put then), so this tries again with a fresh lease, up to ten times.
func attachToShortLease(_ store: any Store, key: Data) async throws -> LeaseGrant {
    for _ in 0..<10 {
        let lease = try await store.grantLease(ttl: 2, id: 0)
        let attached: Bool
        do {
            _ = try await store.put(PutRequest(key: key, value: Data("x".utf8), lease: lease.id))
            attached = true
        } catch {
            guard error == StoreError.leaseNotFound(lease.id) else { throw error }
            attached = false
        }
        if attached { return lease }
    }
    throw StoreError.leaseNotFound(0)
}
