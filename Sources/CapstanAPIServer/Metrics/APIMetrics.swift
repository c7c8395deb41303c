import CapstanStore
import Foundation

/// The API server's metrics, named and labelled as Kubernetes' are so that
/// dashboards and alerts written for kube-apiserver read them unchanged.
public struct APIMetrics: Sendable {
    /// Where every family lives; `/metrics` renders it. Other components
    /// (GitOps engine, controllers) register their own families here too.
    public let registry: MetricsRegistry
    let requests: Counter
    let requestDuration: Histogram
    let longRunning: Gauge
    let terminatedWatchers: Counter
    let rejectedWatches: Counter
    let storeDuration: Histogram
    /// The store's size and revisions, refreshed from `Store.status()` when `/metrics` is read.
    let storeSize: Gauge
    let storeRevision: Gauge
    let storeCompactRevision: Gauge

    /// kube-apiserver's buckets for `apiserver_request_duration_seconds`.
    static let requestBuckets: [Double] = [
        0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60,
    ]
    /// Finer at the low end than etcd's: an embedded SQLite read takes microseconds.
    static let storeBuckets: [Double] = [
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
    ]

    public init(registry: MetricsRegistry = MetricsRegistry()) {
        self.registry = registry
        requests = registry.counter(
            "apiserver_request_total",
            help: "Counter of apiserver requests broken out for each verb, group, resource, subresource, scope and HTTP response code.",
            labels: ["verb", "group", "resource", "subresource", "scope", "code"])
        requestDuration = registry.histogram(
            "apiserver_request_duration_seconds",
            help:
                "Response latency distribution in seconds for each verb, group, resource, subresource and scope (for WATCH, the time to start the watch).",
            labels: ["verb", "group", "resource", "subresource", "scope"], buckets: Self.requestBuckets)
        longRunning = registry.gauge(
            "apiserver_longrunning_requests",
            help: "Gauge of all active long-running apiserver requests (watches) broken out by verb, group and resource.",
            labels: ["verb", "group", "resource"])
        terminatedWatchers = registry.counter(
            "apiserver_terminated_watchers_total",
            help: "Counter of watchers closed due to unresponsiveness (their client did not read) broken by resource type.",
            labels: ["group", "resource"])
        rejectedWatches = registry.counter(
            "capstan_apiserver_rejected_watches_total",
            help: "Watches refused with 429 because their client address already had the maximum number open.")
        storeDuration = registry.histogram(
            "capstan_store_request_duration_seconds",
            help: "Latency of the registry's calls into the store, by store operation (range, txn, watch, lease).",
            labels: ["operation"], buckets: Self.storeBuckets)
        storeSize = registry.gauge(
            "apiserver_storage_size_bytes", help: "Size of the storage database file physically allocated in bytes.", labels: ["storage_cluster_id"])
        storeRevision = registry.gauge("capstan_store_current_revision", help: "The store's current revision.")
        storeCompactRevision = registry.gauge(
            "capstan_store_compact_revision", help: "The revision the store's history is compacted up to (watches and reads before it get 410 Gone).")
        ProcessMetrics.register(in: registry)
    }

    /// Reads the store's size and revisions into their gauges.
    func refreshStore(_ status: StoreStatus, backend: String) {
        storeSize.set([backend], to: Double(status.sizeOnDisk))
        storeRevision.set(to: Double(status.revision))
        storeCompactRevision.set(to: Double(status.compactRevision))
    }

    /// Times a store call.
    func timeStore<T>(_ operation: String, _ body: () async throws -> T) async rethrows -> T {
        let clock = ContinuousClock()
        let start = clock.now
        defer { storeDuration.observe([operation], clock.now - start) }
        return try await body()
    }
}

/// `process_*` metrics from `/proc`, as Prometheus' process collector reports them.
enum ProcessMetrics {
    static func register(in registry: MetricsRegistry) {
        let start = startTime() ?? Date().timeIntervalSince1970
        registry.gauge("process_start_time_seconds", help: "Start time of the process since unix epoch in seconds.").set(to: start)
        registry.gauge("process_resident_memory_bytes", help: "Resident memory size in bytes.").sample {
            guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
                let pages = statm.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
            else { return [] }
            return [([], pages * Double(sysconf(Int32(_SC_PAGESIZE))))]
        }
        registry.gauge("process_open_fds", help: "Number of open file descriptors.").sample {
            let count = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
            return [([], Double(count))]
        }
        registry.gauge("process_cpu_seconds_total", help: "Total user and system CPU time spent in seconds.").sample {
            guard let fields = statFields(), fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return [] }
            return [([], (user + system) / Double(sysconf(Int32(_SC_CLK_TCK))))]
        }
    }

    /// The fields of `/proc/self/stat` after the command name: index 0 is field 3 (state),
    /// 11 and 12 are utime and stime, 19 is starttime (proc(5)).
    static func statFields() -> [Substring]? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    /// Boot time plus the process' start in clock ticks after boot.
    static func startTime() -> Double? {
        guard let fields = statFields(), fields.count > 19, let ticks = Double(fields[19]),
            let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
            let boot = Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
        else { return nil }
        return boot + ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
