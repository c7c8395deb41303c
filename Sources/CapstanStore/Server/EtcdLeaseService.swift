import EtcdAPI
import GRPCCore

/// etcd's `Lease` service over any ``Store``.
struct EtcdLeaseService: Etcdserverpb_Lease.SimpleServiceProtocol {
    let store: any Store

    func leaseGrant(
        request: Etcdserverpb_LeaseGrantRequest, context: ServerContext
    ) async throws -> Etcdserverpb_LeaseGrantResponse {
        try await answering { () async throws(StoreError) in
            let grant = try await store.grantLease(ttl: request.ttl, id: request.id)
            var response = Etcdserverpb_LeaseGrantResponse()
            response.header = responseHeader(revision: try await store.status().revision)
            response.id = grant.id
            response.ttl = grant.ttl
            return response
        }
    }

    func leaseRevoke(
        request: Etcdserverpb_LeaseRevokeRequest, context: ServerContext
    ) async throws -> Etcdserverpb_LeaseRevokeResponse {
        try await answering { () async throws(StoreError) in
            try await store.revokeLease(request.id)
            var response = Etcdserverpb_LeaseRevokeResponse()
            response.header = responseHeader(revision: try await store.status().revision)
            return response
        }
    }

    /// As etcd does, an unknown or expired lease is answered with TTL 0
    /// rather than an error, and the stream goes on.
    func leaseKeepAlive(
        request: RPCAsyncSequence<Etcdserverpb_LeaseKeepAliveRequest, any Error>,
        response: RPCWriter<Etcdserverpb_LeaseKeepAliveResponse>,
        context: ServerContext
    ) async throws {
        try await cancelWhenShuttingDown {
            for try await keepAlive in request {
                var answer = Etcdserverpb_LeaseKeepAliveResponse()
                answer.id = keepAlive.id
                do {
                    answer.ttl = try await store.keepAlive(keepAlive.id)
                } catch StoreError.leaseNotFound {
                    answer.ttl = 0
                } catch {
                    throw ErrorMapping.rpcError(error.asStoreError)
                }
                answer.header = responseHeader(revision: (try? await store.status().revision) ?? 0)
                try await response.write(answer)
            }
        }
    }

    /// As etcd does, an unknown lease is answered with TTL -1.
    func leaseTimeToLive(
        request: Etcdserverpb_LeaseTimeToLiveRequest, context: ServerContext
    ) async throws -> Etcdserverpb_LeaseTimeToLiveResponse {
        try await answering { () async throws(StoreError) in
            var response = Etcdserverpb_LeaseTimeToLiveResponse()
            response.header = responseHeader(revision: try await store.status().revision)
            response.id = request.id
            do {
                let info = try await store.leaseInfo(request.id, includeKeys: request.keys)
                response.ttl = info.remainingTTL
                response.grantedTtl = info.grantedTTL
                response.keys = info.keys
            } catch StoreError.leaseNotFound {
                response.ttl = -1
            } catch {
                throw error.asStoreError
            }
            return response
        }
    }

    func leaseLeases(
        request: Etcdserverpb_LeaseLeasesRequest, context: ServerContext
    ) async throws -> Etcdserverpb_LeaseLeasesResponse {
        try await answering { () async throws(StoreError) in
            var response = Etcdserverpb_LeaseLeasesResponse()
            response.header = responseHeader(revision: try await store.status().revision)
            response.leases = try await store.leases().map { id in
                var status = Etcdserverpb_LeaseStatus()
                status.id = id
                return status
            }
            return response
        }
    }
}

/// etcd's `Maintenance.Status`, which `etcdctl endpoint status` calls; the
/// other Maintenance methods are not served (UNIMPLEMENTED).
struct EtcdMaintenanceService: Etcdserverpb_Maintenance.SimpleServiceProtocol {
    let store: any Store

    /// Reported as the server version: the etcd API level served, marked as Capstan's.
    static let version = "3.4.0+capstan"

    func status(request: Etcdserverpb_StatusRequest, context: ServerContext) async throws -> Etcdserverpb_StatusResponse {
        try await answering { () async throws(StoreError) in
            let status = try await store.status()
            var response = Etcdserverpb_StatusResponse()
            response.header = responseHeader(revision: status.revision)
            response.version = Self.version
            response.dbSize = status.sizeOnDisk
            response.dbSizeInUse = status.sizeOnDisk
            response.leader = EtcdIdentity.memberID
            response.raftIndex = UInt64(status.revision)
            response.raftAppliedIndex = UInt64(status.revision)
            response.raftTerm = 1
            return response
        }
    }
}
