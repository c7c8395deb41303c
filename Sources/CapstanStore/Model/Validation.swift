import Foundation

/// Request checks both backends apply before touching storage, so both
/// refuse the same requests with the same ``StoreError``.
package enum Validation {
    /// Protobuf framing per field is a few bytes; etcd compares the encoded
    /// request size against its limit, so count a small overhead too.
    static let perFieldOverhead = 8

    package static func check(_ range: KeyRange) throws(StoreError) {
        if range.key.isEmpty { throw .emptyKey }
        if !range.isSingleKey && !range.isUnbounded && range.rangeEnd.lexicographicallyPrecedes(range.key) {
            throw .invalidRange(reason: "range end sorts before the start key")
        }
    }

    package static func check(_ request: RangeRequest) throws(StoreError) {
        try check(request.range)
        if request.limit < 0 { throw .invalidRange(reason: "limit \(request.limit) is negative") }
    }

    package static func check(_ request: PutRequest) throws(StoreError) {
        if request.key.isEmpty { throw .emptyKey }
        try checkSize(request.key.count + request.value.count + 3 * perFieldOverhead)
    }

    package static func check(_ request: DeleteRequest) throws(StoreError) {
        try check(request.range)
    }

    package static func check(_ request: TxnRequest) throws(StoreError) {
        try checkSize(encodedSize(request))
        try checkStructure(request)
    }

    package static func checkLeaseTTL(_ ttl: Int64) throws(StoreError) {
        if ttl > StoreLimits.maxLeaseTTL { throw .invalidLeaseTTL(ttl) }
    }

    private static func checkSize(_ bytes: Int) throws(StoreError) {
        if bytes > StoreLimits.maxRequestBytes {
            throw .requestTooLarge(bytes: bytes, limit: StoreLimits.maxRequestBytes)
        }
    }

    private static func checkStructure(_ request: TxnRequest) throws(StoreError) {
        let limit = StoreLimits.maxTxnOperations
        for count in [request.compare.count, request.success.count, request.failure.count] where count > limit {
            throw .tooManyTxnOperations(count: count, limit: limit)
        }
        for compare in request.compare { try check(compare.range) }
        for branch in [request.success, request.failure] {
            for operation in branch {
                switch operation {
                case .range(let range): try check(range)
                case .put(let put): if put.key.isEmpty { throw .emptyKey }
                case .delete(let delete): try check(delete)
                case .txn(let nested): try checkStructure(nested)
                }
            }
            try checkNoDuplicateWrites(branch)
        }
    }

    /// etcd refuses a branch that writes one key twice: two puts of a key, or
    /// a put of a key that a delete in the same branch covers.
    private static func checkNoDuplicateWrites(_ branch: [TxnOperation]) throws(StoreError) {
        var putKeys = Set<Data>()
        var deletes: [KeyRange] = []
        try collectWrites(branch, puts: &putKeys, deletes: &deletes)
        for key in putKeys where deletes.contains(where: { $0.contains(key) }) {
            throw .duplicateKeyInTxn
        }
    }

    /// A nested txn's branches are checked each against the enclosing writes;
    /// later writes of the enclosing branch are checked against both.
    private static func collectWrites(
        _ branch: [TxnOperation], puts: inout Set<Data>, deletes: inout [KeyRange]
    ) throws(StoreError) {
        for operation in branch {
            switch operation {
            case .range: continue
            case .put(let put):
                if !puts.insert(put.key).inserted { throw .duplicateKeyInTxn }
            case .delete(let delete):
                deletes.append(delete.range)
            case .txn(let nested):
                var successPuts = puts
                var successDeletes = deletes
                try collectWrites(nested.success, puts: &successPuts, deletes: &successDeletes)
                var failurePuts = puts
                var failureDeletes = deletes
                try collectWrites(nested.failure, puts: &failurePuts, deletes: &failureDeletes)
                puts = successPuts.union(failurePuts)
                deletes = successDeletes + failureDeletes.dropFirst(deletes.count)
            }
        }
    }

    private static func encodedSize(_ request: TxnRequest) -> Int {
        var total = 0
        for compare in request.compare {
            total += compare.range.key.count + compare.range.rangeEnd.count + 4 * perFieldOverhead
            if case .value(let value) = compare.target { total += value.count }
        }
        for operation in request.success + request.failure {
            switch operation {
            case .range(let range): total += range.range.key.count + range.range.rangeEnd.count + perFieldOverhead
            case .put(let put): total += put.key.count + put.value.count + 3 * perFieldOverhead
            case .delete(let delete): total += delete.range.key.count + delete.range.rangeEnd.count + perFieldOverhead
            case .txn(let nested): total += encodedSize(nested)
            }
        }
        return total
    }
}
