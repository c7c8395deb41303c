import Metrics
import Prometheus

/// The one Prometheus registry of a `capstan` process, with the global
/// `MetricsSystem` bootstrapped to record into it: what Hummingbird and other
/// libraries record through swift-metrics is served on `/metrics` beside
/// Capstan's own metrics.
enum ProcessMetricsRegistry {
    /// Made, and the system bootstrapped, on first use; a static `let` runs its
    /// initialiser once per process, as `MetricsSystem.bootstrap` requires, even
    /// when tests run several commands in one process.
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()
}
