import Foundation

/// What one workload measured on one server.
struct Measurement: Sendable {
    var operations: Int
    var elapsed: Duration
    var latencies: [Duration]
    var note: String = ""

    var operationsPerSecond: Double {
        Double(operations) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    func percentile(_ fraction: Double) -> Duration {
        guard !latencies.isEmpty else { return .zero }
        let sorted = latencies.sorted()
        let index = min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)
        return sorted[max(index, 0)]
    }
}

extension Duration {
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}

/// Collects latencies from concurrent tasks.
final class LatencyLog: @unchecked Sendable {
    // @unchecked: all access goes through `lock`.
    private let lock = NSLock()
    private var samples: [Duration] = []

    func add(_ sample: Duration) {
        lock.lock()
        samples.append(sample)
        lock.unlock()
    }

    func add(contentsOf more: [Duration]) {
        lock.lock()
        samples += more
        lock.unlock()
    }

    var all: [Duration] {
        lock.lock()
        defer { lock.unlock() }
        return samples
    }
}
