import EtcdAPI
import GRPCCore

/// etcd's `KV` service over any ``Store``.
struct EtcdKVService: Etcdserverpb_KV.SimpleServiceProtocol {
    let store: any Store

    func range(request: Etcdserverpb_RangeRequest, context: ServerContext) async throws -> Etcdserverpb_RangeResponse {
        try await answering { () async throws(StoreError) in try await store.range(RangeRequest(request)).proto }
    }

    func put(request: Etcdserverpb_PutRequest, context: ServerContext) async throws -> Etcdserverpb_PutResponse {
        try await answering { () async throws(StoreError) in try await store.put(PutRequest(request)).proto }
    }

    func deleteRange(
        request: Etcdserverpb_DeleteRangeRequest, context: ServerContext
    ) async throws -> Etcdserverpb_DeleteRangeResponse {
        try await answering { () async throws(StoreError) in try await store.delete(DeleteRequest(request)).proto }
    }

    func txn(request: Etcdserverpb_TxnRequest, context: ServerContext) async throws -> Etcdserverpb_TxnResponse {
        try await answering { () async throws(StoreError) in try await store.txn(TxnRequest(request)).proto }
    }

    func compact(
        request: Etcdserverpb_CompactionRequest, context: ServerContext
    ) async throws -> Etcdserverpb_CompactionResponse {
        try await answering { () async throws(StoreError) in
            try await store.compact(request.revision)
            var response = Etcdserverpb_CompactionResponse()
            response.header = responseHeader(revision: try await store.status().revision)
            return response
        }
    }
}

/// Runs a store call, turning its error into etcd's gRPC status.
func answering<Response>(_ body: () async throws(StoreError) -> Response) async throws(RPCError) -> Response {
    do {
        return try await body()
    } catch {
        throw ErrorMapping.rpcError(error)
    }
}
