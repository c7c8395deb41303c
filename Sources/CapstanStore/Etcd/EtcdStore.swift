import EtcdAPI
public import GRPCCore
public import GRPCNIOTransportHTTP2
public import Logging
import Synchronization

/// The store on a real etcd v3 cluster through its gRPC API, for
/// installations that outgrow one machine. Requests are checked with the
/// same ``Validation`` as the SQLite backend, so both refuse the same input
/// with the same ``StoreError``.
///
/// Open one with ``withConnection(host:port:logger:_:)``; watches and lease
/// streams run as child tasks of that scope and end with it.
public final class EtcdStore: Store {
    private let kv: Etcdserverpb_KV.Client<HTTP2ClientTransport.Posix>
    private let watchClient: Etcdserverpb_Watch.Client<HTTP2ClientTransport.Posix>
    private let lease: Etcdserverpb_Lease.Client<HTTP2ClientTransport.Posix>
    private let maintenance: Etcdserverpb_Maintenance.Client<HTTP2ClientTransport.Posix>
    private let jobs: AsyncStream<@Sendable () async -> Void>.Continuation
    /// etcd does not report its compaction point; this is the highest one
    /// this client set or observed.
    private let knownCompactRevision = Atomic<Revision>(0)

    private init(client: GRPCClient<HTTP2ClientTransport.Posix>, jobs: AsyncStream<@Sendable () async -> Void>.Continuation) {
        kv = Etcdserverpb_KV.Client(wrapping: client)
        watchClient = Etcdserverpb_Watch.Client(wrapping: client)
        lease = Etcdserverpb_Lease.Client(wrapping: client)
        maintenance = Etcdserverpb_Maintenance.Client(wrapping: client)
        self.jobs = jobs
    }

    /// Connects to the etcd endpoint at `host:port` (plaintext), runs `body`
    /// with the store, and closes every stream and the connection after it.
    public static func withConnection<Result: Sendable>(
        host: String, port: Int, logger: Logger, _ body: (EtcdStore) async throws -> Result
    ) async throws -> Result {
        let target: any ResolvableTarget = host.contains(":") ? .ipv6(host: host, port: port) : .ipv4(host: host, port: port)
        let transport = try HTTP2ClientTransport.Posix(
            target: target, transportSecurity: .plaintext,
            config: .defaults { config in
                config.connection.maxIdleTime = nil
                // Room for large range responses without a round trip per 64 KiB.
                config.http2.targetWindowSize = 8 << 20
            })
        return try await withGRPCClient(transport: transport) { client in
            let (jobStream, jobs) = AsyncStream<@Sendable () async -> Void>.makeStream()
            let store = EtcdStore(client: client, jobs: jobs)
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    await withDiscardingTaskGroup { streams in
                        for await job in jobStream { streams.addTask { await job() } }
                        streams.cancelAll()
                    }
                }
                defer {
                    jobs.finish()
                    group.cancelAll()
                }
                let result = try await body(store)
                return result
            }
        }
    }

    // MARK: StoreReader

    public func range(_ request: RangeRequest) async throws(StoreError) -> RangeResult {
        try Validation.check(request)
        return try await calling(requested: request.revision) { RangeResult(try await kv.range(request.proto)) }
    }

    public func status() async throws(StoreError) -> StoreStatus {
        try await calling {
            let status = try await maintenance.status(Etcdserverpb_StatusRequest())
            return StoreStatus(
                revision: status.header.revision, compactRevision: knownCompactRevision.load(ordering: .relaxed),
                sizeOnDisk: status.dbSize)
        }
    }

    // MARK: StoreWriter

    public func put(_ request: PutRequest) async throws(StoreError) -> PutResult {
        try Validation.check(request)
        do {
            return try await calling { PutResult(try await kv.put(request.proto)) }
        } catch .leaseNotFound {
            // etcd's message carries no ID; the request does.
            throw .leaseNotFound(request.lease)
        }
    }

    public func delete(_ request: DeleteRequest) async throws(StoreError) -> DeleteResult {
        try Validation.check(request)
        return try await calling { DeleteResult(try await kv.deleteRange(request.proto)) }
    }

    public func txn(_ request: TxnRequest) async throws(StoreError) -> TxnResult {
        try Validation.check(request)
        do {
            return try await calling { TxnResult(try await kv.txn(request.proto)) }
        } catch .leaseNotFound {
            throw .leaseNotFound(request.leases.first ?? 0)
        }
    }

    public func compact(_ revision: Revision) async throws(StoreError) {
        var request = Etcdserverpb_CompactionRequest()
        request.revision = revision
        // Physical: return only once the space is reclaimed, as the contract says.
        request.physical = true
        try await calling(requested: revision) { _ = try await kv.compact(request) }
        knownCompactRevision.max(revision, ordering: .relaxed)
    }

    // MARK: LeaseStore

    public func grantLease(ttl: Int64, id: LeaseID) async throws(StoreError) -> LeaseGrant {
        try Validation.checkLeaseTTL(ttl)
        var request = Etcdserverpb_LeaseGrantRequest()
        request.ttl = ttl
        request.id = id
        let response: Etcdserverpb_LeaseGrantResponse
        do {
            response = try await calling { try await lease.leaseGrant(request) }
        } catch .leaseExists {
            throw .leaseExists(id)
        }
        if !response.error.isEmpty { throw .backend(reason: "etcd: \(response.error)") }
        return LeaseGrant(id: response.id, ttl: response.ttl)
    }

    public func revokeLease(_ id: LeaseID) async throws(StoreError) {
        var request = Etcdserverpb_LeaseRevokeRequest()
        request.id = id
        do {
            _ = try await lease.leaseRevoke(request)
        } catch {
            throw Self.leaseError(error, id)
        }
    }

    public func keepAlive(_ id: LeaseID) async throws(StoreError) -> Int64 {
        var message = Etcdserverpb_LeaseKeepAliveRequest()
        message.id = id
        let request = message
        let ttl: Int64
        do {
            ttl = try await lease.leaseKeepAlive(
                requestProducer: { writer in try await writer.write(request) },
                onResponse: { response in
                    for try await message in response.messages { return message.ttl }
                    return 0
                })
        } catch {
            throw Self.leaseError(error, id)
        }
        // etcd answers an unknown or expired lease with TTL 0.
        if ttl <= 0 { throw .leaseNotFound(id) }
        return ttl
    }

    public func leaseInfo(_ id: LeaseID, includeKeys: Bool) async throws(StoreError) -> LeaseInfo {
        var request = Etcdserverpb_LeaseTimeToLiveRequest()
        request.id = id
        request.keys = includeKeys
        let response = try await calling { try await lease.leaseTimeToLive(request) }
        // etcd answers an unknown lease with TTL -1.
        if response.ttl < 0 { throw .leaseNotFound(id) }
        return LeaseInfo(id: id, remainingTTL: response.ttl, grantedTTL: response.grantedTtl, keys: response.keys)
    }

    public func leases() async throws(StoreError) -> [LeaseID] {
        try await calling { try await lease.leaseLeases(Etcdserverpb_LeaseLeasesRequest()).leases.map(\.id).sorted() }
    }

    // MARK: StoreWatcher

    public func watch(_ request: WatchRequest) async throws(StoreError) -> WatchStream {
        try Validation.check(request.range)
        if request.startRevision > 0 {
            // etcd accepts a watch on a compacted revision and cancels it in a
            // later message; probing first gives the contract's error up front.
            do {
                _ = try await range(RangeRequest(request.range, revision: request.startRevision, countOnly: true))
            } catch .futureRevision {
                // Watching from a future revision is allowed.
            }
        }
        let source = EtcdWatchSource()
        var create = Etcdserverpb_WatchCreateRequest()
        create.key = request.range.key
        create.rangeEnd = request.range.rangeEnd
        create.startRevision = request.startRevision
        create.prevKv = request.includePrevious
        create.progressNotify = request.progressNotify
        var message = Etcdserverpb_WatchRequest()
        message.createRequest = create
        let createMessage = message
        let watchClient = self.watchClient
        jobs.yield { await source.run(client: watchClient, create: createMessage) }
        try await source.waitUntilCreated(requested: request.startRevision)
        return WatchStream(source: source, request: request)
    }

    // MARK: Errors

    private func calling<Value>(requested: Revision = 0, _ body: () async throws -> Value) async throws(StoreError) -> Value {
        do {
            return try await body()
        } catch {
            throw ErrorMapping.storeError(error, requested: requested)
        }
    }

    private static func leaseError(_ error: any Error, _ id: LeaseID) -> StoreError {
        switch ErrorMapping.storeError(error) {
        case .leaseNotFound: .leaseNotFound(id)
        case let other: other
        }
    }
}

extension TxnRequest {
    /// Every lease the txn's puts attach, in order (to name the lease in errors).
    var leases: [LeaseID] {
        (success + failure).flatMap { operation -> [LeaseID] in
            switch operation {
            case .put(let put): put.lease != 0 ? [put.lease] : []
            case .txn(let nested): nested.leases
            case .range, .delete: []
            }
        }
    }
}
