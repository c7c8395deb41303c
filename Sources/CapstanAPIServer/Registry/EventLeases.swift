import CapstanStore

/// Store leases that make Events expire, as kube-apiserver's `--event-ttl` does.
///
/// Every Event write attaches the key to a lease; one lease is shared by all
/// Events written within a minute (like Kubernetes' lease reuse), granted for
/// the TTL plus that minute, so an Event lives at least `ttl` seconds after
/// its last update and the store holds a handful of leases, not one per Event.
actor EventLeases {
    private let store: any Store
    private let ttlSeconds: Int64
    private let reuse: Duration = .seconds(60)
    private var current: (id: LeaseID, granted: ContinuousClock.Instant)?

    init(store: any Store, ttlSeconds: Int64) {
        self.store = store
        self.ttlSeconds = ttlSeconds
    }

    /// A lease to attach an Event written now to.
    func lease() async throws(StoreError) -> LeaseID {
        let now = ContinuousClock.now
        if let current, now < current.granted + reuse { return current.id }
        let grant = try await store.grantLease(ttl: ttlSeconds + Int64(reuse.components.seconds), id: 0)
        current = (grant.id, now)
        return grant.id
    }

    /// Stops reusing a lease the store no longer knows (revoked, or expired after a long pause).
    func forget(_ id: LeaseID) {
        if current?.id == id { current = nil }
    }
}
