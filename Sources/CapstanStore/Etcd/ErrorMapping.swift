import GRPCCore

/// The one place store errors become gRPC statuses and back. Messages are
/// etcd's own (`etcdserver: ...`), so etcd clients recognise them and the
/// etcd backend can map a real etcd's errors to the same ``StoreError``.
enum ErrorMapping {
    static func rpcError(_ error: StoreError) -> RPCError {
        switch error {
        case .compacted:
            RPCError(code: .outOfRange, message: EtcdMessage.compacted)
        case .futureRevision:
            RPCError(code: .outOfRange, message: EtcdMessage.futureRevision)
        case .requestTooLarge:
            RPCError(code: .invalidArgument, message: EtcdMessage.requestTooLarge)
        case .emptyKey:
            RPCError(code: .invalidArgument, message: EtcdMessage.emptyKey)
        case .invalidRange(let reason):
            RPCError(code: .invalidArgument, message: "etcdserver: invalid range: \(reason)")
        case .leaseNotFound:
            RPCError(code: .notFound, message: EtcdMessage.leaseNotFound)
        case .leaseExists:
            RPCError(code: .failedPrecondition, message: EtcdMessage.leaseExists)
        case .invalidLeaseTTL:
            RPCError(code: .outOfRange, message: EtcdMessage.leaseTTLTooLarge)
        case .keyNotFound:
            RPCError(code: .invalidArgument, message: EtcdMessage.keyNotFound)
        case .duplicateKeyInTxn:
            RPCError(code: .invalidArgument, message: EtcdMessage.duplicateKey)
        case .tooManyTxnOperations:
            RPCError(code: .invalidArgument, message: EtcdMessage.tooManyOperations)
        case .notWritable(let reason):
            RPCError(code: .unavailable, message: "etcdserver: store is not writable: \(reason)")
        case .backend(let reason):
            RPCError(code: .internalError, message: "etcdserver: \(reason)")
        case .closed:
            RPCError(code: .unavailable, message: "etcdserver: server stopped")
        }
    }

    /// Maps an error a real etcd returned. `requested` fills in the revision
    /// for compaction errors, which etcd reports without numbers.
    static func storeError(_ error: any Error, requested: Revision = 0) -> StoreError {
        if let error = error as? StoreError { return error }
        guard let rpc = error as? RPCError else { return .backend(reason: "\(error)") }
        switch rpc.message {
        case EtcdMessage.compacted: return .compacted(requested: requested, compactRevision: 0)
        case EtcdMessage.futureRevision: return .futureRevision(requested: requested, current: 0)
        case EtcdMessage.requestTooLarge: return .requestTooLarge(bytes: 0, limit: StoreLimits.maxRequestBytes)
        case EtcdMessage.emptyKey: return .emptyKey
        case EtcdMessage.leaseNotFound: return .leaseNotFound(0)
        case EtcdMessage.leaseExists: return .leaseExists(0)
        case EtcdMessage.leaseTTLTooLarge: return .invalidLeaseTTL(0)
        case EtcdMessage.keyNotFound: return .keyNotFound
        case EtcdMessage.duplicateKey: return .duplicateKeyInTxn
        case EtcdMessage.tooManyOperations: return .tooManyTxnOperations(count: 0, limit: StoreLimits.maxTxnOperations)
        default:
            if rpc.code == .resourceExhausted && rpc.message.contains("larger than max") {
                return .requestTooLarge(bytes: 0, limit: StoreLimits.maxRequestBytes)
            }
            if rpc.code == .unavailable { return .backend(reason: "etcd unavailable: \(rpc.message)") }
            return .backend(reason: "etcd: \(rpc.code): \(rpc.message)")
        }
    }
}

/// etcd v3.4's error strings (api/v3rpc/rpctypes).
enum EtcdMessage {
    static let compacted = "etcdserver: mvcc: required revision has been compacted"
    static let futureRevision = "etcdserver: mvcc: required revision is a future revision"
    static let requestTooLarge = "etcdserver: request is too large"
    static let emptyKey = "etcdserver: key is not provided"
    static let leaseNotFound = "etcdserver: requested lease not found"
    static let leaseExists = "etcdserver: lease already exists"
    static let leaseTTLTooLarge = "etcdserver: too large lease TTL"
    static let keyNotFound = "etcdserver: key not found"
    static let duplicateKey = "etcdserver: duplicate key given in txn request"
    static let tooManyOperations = "etcdserver: too many operations in txn request"
}
