import CoreMetrics
import Prometheus
import Synchronization

/// One metric name with fixed label names, as Prometheus groups series: a
/// swift-metrics object per combination of label values, made on first use
/// and kept, whose handler comes from the process' `PrometheusCollectorRegistry`
/// with the family's HELP text.
///
/// The handlers are made through the registry (not `MetricsSystem.factory`)
/// so each API server writes to the registry it was given, and tests in one
/// process stay apart even though the executable bootstraps the global system.
final class MetricFamily<Metric: Sendable>: Sendable {
    let name: String
    let labelNames: [String]
    private let make: @Sendable (_ dimensions: [(String, String)]) -> Metric
    private let series = Mutex<[[String]: Metric]>([:])

    init(name: String, labelNames: [String], make: @escaping @Sendable (_ dimensions: [(String, String)]) -> Metric) {
        self.name = name
        self.labelNames = labelNames
        self.make = make
    }

    /// The series for these label values, in the order of ``labelNames``.
    subscript(_ values: [String]) -> Metric {
        precondition(values.count == labelNames.count, "\(name) takes labels \(labelNames)")
        return series.withLock { series in
            if let existing = series[values] { return existing }
            let metric = make(Array(zip(labelNames, values)))
            series[values] = metric
            return metric
        }
    }
}

extension PrometheusCollectorRegistry {
    /// A family of swift-metrics `Counter`s.
    func counters(_ name: String, help: String, labels: [String] = []) -> MetricFamily<CoreMetrics.Counter> {
        MetricFamily(name: name, labelNames: labels) { [self] dimensions in
            CoreMetrics.Counter(label: name, dimensions: dimensions, handler: makeCounter(name: name, labels: dimensions, help: help))
        }
    }

    /// A family of swift-metrics `Meter`s: gauges that are set, or go up and down.
    func meters(_ name: String, help: String, labels: [String] = []) -> MetricFamily<Meter> {
        MetricFamily(name: name, labelNames: labels) { [self] dimensions in
            Meter(label: name, dimensions: dimensions, handler: makeGauge(name: name, labels: dimensions, help: help))
        }
    }

    /// A family of swift-metrics `Timer`s, exposed as a histogram in seconds.
    /// - Parameter buckets: upper bounds in seconds, ascending; `+Inf` is implied.
    func timers(_ name: String, help: String, labels: [String] = [], buckets: [Double]) -> MetricFamily<CoreMetrics.Timer> {
        let bounds = buckets.sorted().map { Duration.nanoseconds(Int64(($0 * 1e9).rounded())) }
        return MetricFamily(name: name, labelNames: labels) { [self] dimensions in
            CoreMetrics.Timer(
                label: name, dimensions: dimensions, handler: makeDurationHistogram(name: name, labels: dimensions, buckets: bounds, help: help))
        }
    }
}

extension CoreMetrics.Timer {
    /// Records a span measured with a `ContinuousClock`.
    func record(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
