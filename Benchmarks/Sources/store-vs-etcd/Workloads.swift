import CapstanStore
import Foundation

/// The workloads, each bounded by a fixed number of operations. Every one
/// goes through the etcd v3 API with the same client code for both servers.
enum Workloads {
    static let value = Data(repeating: 0x76, count: 256)
    static let clock = ContinuousClock()

    /// One client, one put at a time.
    static func sequentialPuts(_ store: any Store, count: Int) async throws -> Measurement {
        var latencies: [Duration] = []
        latencies.reserveCapacity(count)
        let start = clock.now
        for index in 0..<count {
            let began = clock.now
            _ = try await store.put(PutRequest(key: Data("seq/\(index)".utf8), value: value))
            latencies.append(clock.now - began)
        }
        return Measurement(operations: count, elapsed: clock.now - start, latencies: latencies)
    }

    /// `clients` concurrent clients, each putting its own keys in a loop.
    static func concurrentPuts(_ store: any Store, clients: Int, perClient: Int, prefix: String) async throws -> Measurement {
        let log = LatencyLog()
        let start = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<clients {
                group.addTask {
                    var latencies: [Duration] = []
                    for index in 0..<perClient {
                        let began = clock.now
                        _ = try await store.put(PutRequest(key: Data("\(prefix)/\(client)/\(index)".utf8), value: value))
                        latencies.append(clock.now - began)
                    }
                    log.add(contentsOf: latencies)
                }
            }
            try await group.waitForAll()
        }
        return Measurement(operations: clients * perClient, elapsed: clock.now - start, latencies: log.all)
    }

    /// Loads `keys` keys, then reads the whole prefix `reads` times.
    static func rangeOverKeys(_ store: any Store, keys: Int, reads: Int) async throws -> Measurement {
        try await withThrowingTaskGroup(of: Void.self) { group in
            let writers = 32
            for writer in 0..<writers {
                group.addTask {
                    for index in stride(from: writer, to: keys, by: writers) {
                        _ = try await store.put(PutRequest(key: Data(String(format: "range/%05d", index).utf8), value: value))
                    }
                }
            }
            try await group.waitForAll()
        }
        var latencies: [Duration] = []
        let start = clock.now
        for _ in 0..<reads {
            let began = clock.now
            let result = try await store.range(RangeRequest(.prefix(Data("range/".utf8))))
            guard result.kvs.count == keys else {
                throw BenchmarkError("range returned \(result.kvs.count) keys, expected \(keys)")
            }
            latencies.append(clock.now - began)
        }
        return Measurement(operations: reads, elapsed: clock.now - start, latencies: latencies, note: "\(keys) keys per read")
    }

    /// `watchers` watches on one prefix while `writers` clients put `events`
    /// keys; measures delivered events per second and put-to-delivery lag.
    static func watchFanOut(_ store: any Store, watchers: Int, events: Int, writers: Int) async throws -> Measurement {
        var streams: [WatchStream] = []
        for _ in 0..<watchers { streams.append(try await store.watch(WatchRequest(.prefix(Data("fan/".utf8))))) }
        defer { for stream in streams { stream.cancel() } }
        let log = LatencyLog()
        let start = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for stream in streams {
                group.addTask {
                    var received = 0
                    var lags: [Duration] = []
                    lags.reserveCapacity(events)
                    while received < events, let batch = try await stream.next() {
                        let now = DispatchTime.now().uptimeNanoseconds
                        for event in batch.events {
                            let sent = event.kv.value.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                            lags.append(.nanoseconds(Int64(now &- sent)))
                        }
                        received += batch.events.count
                    }
                    log.add(contentsOf: lags)
                }
            }
            for writer in 0..<writers {
                group.addTask {
                    for index in stride(from: writer, to: events, by: writers) {
                        var stamped = value
                        var now = DispatchTime.now().uptimeNanoseconds
                        withUnsafeBytes(of: &now) { stamped.replaceSubrange(0..<8, with: $0) }
                        _ = try await store.put(PutRequest(key: Data("fan/\(index)".utf8), value: stamped))
                    }
                }
            }
            try await group.waitForAll()
        }
        return Measurement(
            operations: watchers * events, elapsed: clock.now - start, latencies: log.all,
            note: "\(watchers) watchers x \(events) events; latency = put start to delivery")
    }

    /// `clients` clients increment one counter with read + compare-and-swap.
    static func casContention(_ store: any Store, clients: Int, attemptsPerClient: Int) async throws -> Measurement {
        let key = Data("cas/counter".utf8)
        _ = try await store.put(PutRequest(key: key, value: Data("0".utf8)))
        let log = LatencyLog()
        let successes = LatencyLog()
        let start = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<clients {
                group.addTask {
                    var latencies: [Duration] = []
                    for _ in 0..<attemptsPerClient {
                        let began = clock.now
                        guard let current = try await store.range(RangeRequest(.single(key))).kvs.first else { continue }
                        let next = (Int(String(decoding: current.value, as: UTF8.self)) ?? 0) + 1
                        let result = try await store.txn(
                            TxnRequest(
                                compare: [Compare(key: key, .modRevision(current.modRevision), .equal)],
                                success: [.put(PutRequest(key: key, value: Data("\(next)".utf8)))]))
                        latencies.append(clock.now - began)
                        if result.succeeded { successes.add(.zero) }
                    }
                    log.add(contentsOf: latencies)
                }
            }
            try await group.waitForAll()
        }
        let won = successes.all.count
        return Measurement(
            operations: clients * attemptsPerClient, elapsed: clock.now - start, latencies: log.all,
            note: "\(won) of \(clients * attemptsPerClient) CAS attempts won")
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
