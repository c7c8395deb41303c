import Foundation
import Synchronization

/// Prometheus metrics in the text exposition format (version 0.0.4), with no
/// dependency: counters, gauges and histograms keyed by label values.
///
/// Families are created once (by whoever owns them) and updated from any
/// task; each family guards its series with its own lock, so recording is one
/// short critical section. `exposition()` renders every family, sorted by
/// name, as `/metrics` serves it.
public final class MetricsRegistry: Sendable {
    private let families = Mutex<[String: any MetricFamily]>([:])

    public init() {}

    /// A counter family; asking twice for one name returns the same family.
    public func counter(_ name: String, help: String, labels: [String] = []) -> Counter {
        register(name) { Counter(name: name, help: help, labelNames: labels) }
    }

    public func gauge(_ name: String, help: String, labels: [String] = []) -> Gauge {
        register(name) { Gauge(name: name, help: help, labelNames: labels) }
    }

    /// - Parameter buckets: upper bounds in seconds (or the unit of the metric), ascending; `+Inf` is implied.
    public func histogram(_ name: String, help: String, labels: [String] = [], buckets: [Double]) -> Histogram {
        register(name) { Histogram(name: name, help: help, labelNames: labels, buckets: buckets) }
    }

    private func register<Family: MetricFamily>(_ name: String, _ make: () -> Family) -> Family {
        families.withLock { families in
            if let existing = families[name] {
                guard let typed = existing as? Family else { preconditionFailure("metric \(name) registered twice with different types") }
                return typed
            }
            let family = make()
            families[name] = family
            return family
        }
    }

    /// Every family, in the Prometheus text format.
    public func exposition() -> String {
        let all = families.withLock { $0.values.sorted { $0.name < $1.name } }
        var text = ""
        for family in all { family.render(into: &text) }
        return text
    }

    /// The `Content-Type` of ``exposition()``.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
}

protocol MetricFamily: AnyObject, Sendable {
    var name: String { get }
    func render(into text: inout String)
}

/// A monotonically increasing count per label combination.
public final class Counter: MetricFamily {
    let name: String
    let help: String
    let labelNames: [String]
    private let values = Mutex<[[String]: Double]>([:])

    init(name: String, help: String, labelNames: [String]) {
        self.name = name
        self.help = help
        self.labelNames = labelNames
    }

    /// - Parameter labels: values in the order of the family's label names.
    public func increment(_ labels: [String] = [], by amount: Double = 1) {
        precondition(labels.count == labelNames.count, "\(name) takes labels \(labelNames)")
        values.withLock { $0[labels, default: 0] += amount }
    }

    public func value(_ labels: [String] = []) -> Double { values.withLock { $0[labels] ?? 0 } }

    func render(into text: inout String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) counter\n"
        for (labels, value) in values.withLock({ $0 }).sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            text += "\(name)\(Exposition.labels(labelNames, labels)) \(Exposition.number(value))\n"
        }
    }
}

/// A value that goes up and down per label combination.
public final class Gauge: MetricFamily {
    let name: String
    let help: String
    let labelNames: [String]
    private let values = Mutex<[[String]: Double]>([:])
    /// Computed at scrape time, for values read from elsewhere (`/proc`).
    private let sampler = Mutex<(@Sendable () -> [([String], Double)])?>(nil)

    init(name: String, help: String, labelNames: [String]) {
        self.name = name
        self.help = help
        self.labelNames = labelNames
    }

    public func set(_ labels: [String] = [], to value: Double) {
        values.withLock { $0[labels] = value }
    }

    public func add(_ labels: [String] = [], _ amount: Double) {
        values.withLock { $0[labels, default: 0] += amount }
    }

    public func value(_ labels: [String] = []) -> Double { values.withLock { $0[labels] ?? 0 } }

    /// Replaces stored values with `sample()` at every scrape.
    public func sample(_ sample: @escaping @Sendable () -> [([String], Double)]) {
        sampler.withLock { $0 = sample }
    }

    func render(into text: inout String) {
        var series = values.withLock { $0 }
        if let sample = sampler.withLock({ $0 }) {
            for (labels, value) in sample() { series[labels] = value }
        }
        text += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
        for (labels, value) in series.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            text += "\(name)\(Exposition.labels(labelNames, labels)) \(Exposition.number(value))\n"
        }
    }
}

/// Observations counted into cumulative buckets, with their sum and count.
public final class Histogram: MetricFamily {
    struct Series {
        var counts: [UInt64]
        var sum: Double = 0
        var count: UInt64 = 0
    }

    let name: String
    let help: String
    let labelNames: [String]
    let buckets: [Double]
    private let series = Mutex<[[String]: Series]>([:])

    init(name: String, help: String, labelNames: [String], buckets: [Double]) {
        self.name = name
        self.help = help
        self.labelNames = labelNames
        self.buckets = buckets.sorted()
    }

    public func observe(_ labels: [String] = [], _ value: Double) {
        precondition(labels.count == labelNames.count, "\(name) takes labels \(labelNames)")
        // Non-cumulative here; rendering accumulates.
        let index = buckets.firstIndex { value <= $0 } ?? buckets.count
        series.withLock { all in
            var entry = all[labels] ?? Series(counts: Array(repeating: 0, count: buckets.count + 1))
            entry.counts[index] += 1
            entry.sum += value
            entry.count += 1
            all[labels] = entry
        }
    }

    public func observe(_ labels: [String] = [], _ duration: Duration) {
        observe(labels, Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }

    /// How many observations a label combination has had.
    public func count(_ labels: [String] = []) -> UInt64 { series.withLock { $0[labels]?.count ?? 0 } }

    func render(into text: inout String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        for (labels, entry) in series.withLock({ $0 }).sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            var cumulative: UInt64 = 0
            for (index, bound) in (buckets + [.infinity]).enumerated() {
                cumulative += entry.counts[index]
                let le = bound.isInfinite ? "+Inf" : Exposition.number(bound)
                text += "\(name)_bucket\(Exposition.labels(labelNames + ["le"], labels + [le])) \(cumulative)\n"
            }
            text += "\(name)_sum\(Exposition.labels(labelNames, labels)) \(Exposition.number(entry.sum))\n"
            text += "\(name)_count\(Exposition.labels(labelNames, labels)) \(entry.count)\n"
        }
    }
}

/// Formatting of the text exposition format.
enum Exposition {
    static func labels(_ names: [String], _ values: [String]) -> String {
        guard !names.isEmpty else { return "" }
        return "{" + zip(names, values).map { "\($0)=\"\(escape($1))\"" }.joined(separator: ",") + "}"
    }

    /// Label values escape backslash, double quote and newline.
    static func escape(_ value: String) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// Integers without a fraction (`1`, not `1.0`), as Prometheus clients print them.
    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
