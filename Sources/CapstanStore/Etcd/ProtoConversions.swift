import EtcdAPI
import Foundation

// Mapping between the store's value types and the etcd v3 protobuf messages,
// in both directions: the API server decodes requests and encodes results,
// the etcd backend encodes requests and decodes results.

extension KeyValue {
    init(_ proto: Mvccpb_KeyValue) {
        self.init(
            key: proto.key, value: proto.value, createRevision: proto.createRevision,
            modRevision: proto.modRevision, version: proto.version, lease: proto.lease)
    }

    var proto: Mvccpb_KeyValue {
        var kv = Mvccpb_KeyValue()
        kv.key = key
        kv.value = value
        kv.createRevision = createRevision
        kv.modRevision = modRevision
        kv.version = version
        kv.lease = lease
        return kv
    }
}

extension Event {
    init(_ proto: Mvccpb_Event) {
        self.init(
            kind: proto.type == .delete ? .delete : .put, kv: KeyValue(proto.kv),
            previous: proto.hasPrevKv ? KeyValue(proto.prevKv) : nil)
    }

    func proto(includePrevious: Bool) -> Mvccpb_Event {
        var event = Mvccpb_Event()
        event.type = kind == .delete ? .delete : .put
        event.kv = kv.proto
        if includePrevious, let previous { event.prevKv = previous.proto }
        return event
    }
}

extension RangeRequest {
    init(_ proto: Etcdserverpb_RangeRequest) {
        let sortOrder: SortOrder =
            switch proto.sortOrder {
            case .ascend: .ascending
            case .descend: .descending
            default: .none
            }
        let sortTarget: SortTarget =
            switch proto.sortTarget {
            case .version: .version
            case .create: .createRevision
            case .mod: .modRevision
            case .value: .value
            default: .key
            }
        self.init(
            KeyRange(key: proto.key, rangeEnd: proto.rangeEnd), revision: proto.revision, limit: proto.limit,
            countOnly: proto.countOnly, keysOnly: proto.keysOnly, sortOrder: sortOrder, sortTarget: sortTarget)
    }

    var proto: Etcdserverpb_RangeRequest {
        var request = Etcdserverpb_RangeRequest()
        request.key = range.key
        request.rangeEnd = range.rangeEnd
        request.revision = revision
        request.limit = limit
        request.countOnly = countOnly
        request.keysOnly = keysOnly
        request.sortOrder =
            switch sortOrder {
            case .none: .none
            case .ascending: .ascend
            case .descending: .descend
            }
        request.sortTarget =
            switch sortTarget {
            case .key: .key
            case .version: .version
            case .createRevision: .create
            case .modRevision: .mod
            case .value: .value
            }
        return request
    }
}

/// The response header every etcd response carries.
func responseHeader(revision: Revision) -> Etcdserverpb_ResponseHeader {
    var header = Etcdserverpb_ResponseHeader()
    header.clusterID = EtcdIdentity.clusterID
    header.memberID = EtcdIdentity.memberID
    header.revision = revision
    header.raftTerm = 1
    return header
}

/// Fixed identifiers: the embedded store is a one-member "cluster".
enum EtcdIdentity {
    static let clusterID: UInt64 = 0x6361_7073_7461_6e01
    static let memberID: UInt64 = 0x6361_7073_7461_6e02
}

extension RangeResult {
    init(_ proto: Etcdserverpb_RangeResponse) {
        self.init(kvs: proto.kvs.map(KeyValue.init), more: proto.more, count: proto.count, headerRevision: proto.header.revision)
    }

    var proto: Etcdserverpb_RangeResponse {
        var response = Etcdserverpb_RangeResponse()
        response.header = responseHeader(revision: headerRevision)
        response.kvs = kvs.map(\.proto)
        response.more = more
        response.count = count
        return response
    }
}

extension PutRequest {
    init(_ proto: Etcdserverpb_PutRequest) {
        self.init(
            key: proto.key, value: proto.value, lease: proto.lease, returnPrevious: proto.prevKv,
            ignoreValue: proto.ignoreValue, ignoreLease: proto.ignoreLease)
    }

    var proto: Etcdserverpb_PutRequest {
        var request = Etcdserverpb_PutRequest()
        request.key = key
        request.value = value
        request.lease = lease
        request.prevKv = returnPrevious
        request.ignoreValue = ignoreValue
        request.ignoreLease = ignoreLease
        return request
    }
}

extension PutResult {
    init(_ proto: Etcdserverpb_PutResponse) {
        self.init(revision: proto.header.revision, previous: proto.hasPrevKv ? KeyValue(proto.prevKv) : nil)
    }

    var proto: Etcdserverpb_PutResponse {
        var response = Etcdserverpb_PutResponse()
        response.header = responseHeader(revision: revision)
        if let previous { response.prevKv = previous.proto }
        return response
    }
}

extension DeleteRequest {
    init(_ proto: Etcdserverpb_DeleteRangeRequest) {
        self.init(KeyRange(key: proto.key, rangeEnd: proto.rangeEnd), returnPrevious: proto.prevKv)
    }

    var proto: Etcdserverpb_DeleteRangeRequest {
        var request = Etcdserverpb_DeleteRangeRequest()
        request.key = range.key
        request.rangeEnd = range.rangeEnd
        request.prevKv = returnPrevious
        return request
    }
}

extension DeleteResult {
    init(_ proto: Etcdserverpb_DeleteRangeResponse) {
        self.init(revision: proto.header.revision, deleted: proto.deleted, previous: proto.prevKvs.map(KeyValue.init))
    }

    var proto: Etcdserverpb_DeleteRangeResponse {
        var response = Etcdserverpb_DeleteRangeResponse()
        response.header = responseHeader(revision: revision)
        response.deleted = deleted
        response.prevKvs = previous.map(\.proto)
        return response
    }
}

extension Compare {
    init(_ proto: Etcdserverpb_Compare) {
        let target: Target =
            switch proto.target {
            case .version: .version(proto.version)
            case .create: .createRevision(proto.createRevision)
            case .mod: .modRevision(proto.modRevision)
            case .value: .value(proto.value)
            case .lease: .lease(proto.lease)
            case .UNRECOGNIZED: .version(proto.version)
            }
        let op: Operator =
            switch proto.result {
            case .equal: .equal
            case .greater: .greater
            case .less: .less
            case .notEqual: .notEqual
            case .UNRECOGNIZED: .equal
            }
        self.init(KeyRange(key: proto.key, rangeEnd: proto.rangeEnd), target, op)
    }

    var proto: Etcdserverpb_Compare {
        var compare = Etcdserverpb_Compare()
        compare.key = range.key
        compare.rangeEnd = range.rangeEnd
        switch target {
        case .version(let version):
            compare.target = .version
            compare.version = version
        case .createRevision(let revision):
            compare.target = .create
            compare.createRevision = revision
        case .modRevision(let revision):
            compare.target = .mod
            compare.modRevision = revision
        case .value(let value):
            compare.target = .value
            compare.value = value
        case .lease(let lease):
            compare.target = .lease
            compare.lease = lease
        }
        compare.result =
            switch op {
            case .equal: .equal
            case .notEqual: .notEqual
            case .greater: .greater
            case .less: .less
            }
        return compare
    }
}

extension TxnOperation {
    init?(_ proto: Etcdserverpb_RequestOp) {
        switch proto.request {
        case .requestRange(let range): self = .range(RangeRequest(range))
        case .requestPut(let put): self = .put(PutRequest(put))
        case .requestDeleteRange(let delete): self = .delete(DeleteRequest(delete))
        case .requestTxn(let txn): self = .txn(TxnRequest(txn))
        case nil: return nil
        }
    }

    var proto: Etcdserverpb_RequestOp {
        var operation = Etcdserverpb_RequestOp()
        switch self {
        case .range(let range): operation.requestRange = range.proto
        case .put(let put): operation.requestPut = put.proto
        case .delete(let delete): operation.requestDeleteRange = delete.proto
        case .txn(let txn): operation.requestTxn = txn.proto
        }
        return operation
    }
}

extension TxnRequest {
    /// Operations with no request set are dropped, as etcd ignores them.
    init(_ proto: Etcdserverpb_TxnRequest) {
        self.init(
            compare: proto.compare.map(Compare.init), success: proto.success.compactMap(TxnOperation.init),
            failure: proto.failure.compactMap(TxnOperation.init))
    }

    var proto: Etcdserverpb_TxnRequest {
        var request = Etcdserverpb_TxnRequest()
        request.compare = compare.map(\.proto)
        request.success = success.map(\.proto)
        request.failure = failure.map(\.proto)
        return request
    }
}

extension TxnResult {
    init(_ proto: Etcdserverpb_TxnResponse) {
        self.init(
            revision: proto.header.revision, succeeded: proto.succeeded,
            results: proto.responses.compactMap { response in
                switch response.response {
                case .responseRange(let range): .range(RangeResult(range))
                case .responsePut(let put): .put(PutResult(put))
                case .responseDeleteRange(let delete): .delete(DeleteResult(delete))
                case .responseTxn(let txn): .txn(TxnResult(txn))
                case nil: nil
                }
            })
    }

    var proto: Etcdserverpb_TxnResponse {
        var response = Etcdserverpb_TxnResponse()
        response.header = responseHeader(revision: revision)
        response.succeeded = succeeded
        response.responses = results.map { result in
            var operation = Etcdserverpb_ResponseOp()
            switch result {
            case .range(let range): operation.responseRange = range.proto
            case .put(let put): operation.responsePut = put.proto
            case .delete(let delete): operation.responseDeleteRange = delete.proto
            case .txn(let txn): operation.responseTxn = txn.proto
            }
            return operation
        }
        return response
    }
}
