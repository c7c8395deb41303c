import CapstanStore
import CoreMetrics
import Foundation
package import Prometheus

/// The API server's metrics, named and labelled as Kubernetes' are so that
/// dashboards and alerts written for kube-apiserver read them unchanged.
///
/// Each is a swift-metrics object whose handler lives in ``registry``, a
/// Prometheus collector registry; `/metrics` renders that registry whole, so
/// whatever else the process records into it (Hummingbird's request metrics,
/// other libraries' through the bootstrapped `MetricsSystem`) is served too.
package struct APIMetrics: Sendable {
    /// Where every metric lives; `/metrics` renders it.
    package let registry: PrometheusCollectorRegistry
    let requests: MetricFamily<CoreMetrics.Counter>
    let requestDuration: MetricFamily<CoreMetrics.Timer>
    let longRunning: MetricFamily<Meter>
    let terminatedWatchers: MetricFamily<CoreMetrics.Counter>
    let rejectedWatches: CoreMetrics.Counter
    let storeDuration: MetricFamily<CoreMetrics.Timer>
    /// The store's size and revisions, refreshed from `Store.status()` when `/metrics` is read.
    let storeSize: MetricFamily<Meter>
    let storeRevision: Meter
    let storeCompactRevision: Meter
    let process: ProcessMetrics

    /// kube-apiserver's buckets for `apiserver_request_duration_seconds`.
    static let requestBuckets: [Double] = [
        0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60,
    ]
    /// Finer at the low end than etcd's: an embedded SQLite read takes microseconds.
    static let storeBuckets: [Double] = [
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
    ]

    /// The `Content-Type` of the text exposition format `/metrics` serves.
    package static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// - Parameter registry: the process' registry (the one `MetricsSystem` is bootstrapped
    ///   with, in the executable); a fresh one keeps a test's server apart from others in its process.
    package init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        requests = registry.counters(
            "apiserver_request_total",
            help: "Counter of apiserver requests broken out for each verb, group, resource, subresource, scope and HTTP response code.",
            labels: ["verb", "group", "resource", "subresource", "scope", "code"])
        requestDuration = registry.timers(
            "apiserver_request_duration_seconds",
            help:
                "Response latency distribution in seconds for each verb, group, resource, subresource and scope (for WATCH, the time to start the watch).",
            labels: ["verb", "group", "resource", "subresource", "scope"], buckets: Self.requestBuckets)
        longRunning = registry.meters(
            "apiserver_longrunning_requests",
            help: "Gauge of all active long-running apiserver requests (watches) broken out by verb, group and resource.",
            labels: ["verb", "group", "resource"])
        terminatedWatchers = registry.counters(
            "apiserver_terminated_watchers_total",
            help: "Counter of watchers closed due to unresponsiveness (their client did not read) broken by resource type.",
            labels: ["group", "resource"])
        rejectedWatches =
            registry.counters(
                "capstan_apiserver_rejected_watches_total",
                help: "Watches refused with 429 because their client address already had the maximum number open.")[[]]
        storeDuration = registry.timers(
            "capstan_store_request_duration_seconds",
            help: "Latency of the registry's calls into the store, by store operation (range, txn, watch, lease).",
            labels: ["operation"], buckets: Self.storeBuckets)
        storeSize = registry.meters(
            "apiserver_storage_size_bytes", help: "Size of the storage database file physically allocated in bytes.", labels: ["storage_cluster_id"])
        storeRevision = registry.meters("capstan_store_current_revision", help: "The store's current revision.")[[]]
        storeCompactRevision =
            registry.meters(
                "capstan_store_compact_revision",
                help: "The revision the store's history is compacted up to (watches and reads before it get 410 Gone).")[[]]
        process = ProcessMetrics(registry: registry)
    }

    /// Reads the store's size and revisions into their gauges.
    func refreshStore(_ status: StoreStatus, backend: String) {
        storeSize[[backend]].set(Double(status.sizeOnDisk))
        storeRevision.set(Double(status.revision))
        storeCompactRevision.set(Double(status.compactRevision))
    }

    /// The registry in the text exposition format, with the values read at scrape time
    /// (`/proc`) brought up to date first.
    package func exposition() -> [UInt8] {
        process.refresh()
        return registry.emitToBuffer()
    }

    /// Times a store call.
    func timeStore<T>(_ operation: String, _ body: () async throws -> T) async rethrows -> T {
        let clock = ContinuousClock()
        let start = clock.now
        defer { storeDuration[[operation]].record(clock.now - start) }
        return try await body()
    }
}

/// `process_*` metrics from `/proc`, as Prometheus' process collector reports them;
/// read again at every scrape (``refresh()``).
struct ProcessMetrics: Sendable {
    let residentMemory: Meter
    let openFileDescriptors: Meter
    let cpuSeconds: Meter

    init(registry: PrometheusCollectorRegistry) {
        let start = Self.startTime() ?? Date().timeIntervalSince1970
        registry.meters("process_start_time_seconds", help: "Start time of the process since unix epoch in seconds.")[[]].set(start)
        residentMemory = registry.meters("process_resident_memory_bytes", help: "Resident memory size in bytes.")[[]]
        openFileDescriptors = registry.meters("process_open_fds", help: "Number of open file descriptors.")[[]]
        cpuSeconds = registry.meters("process_cpu_seconds_total", help: "Total user and system CPU time spent in seconds.")[[]]
    }

    func refresh() {
        if let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
            let pages = statm.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
        {
            residentMemory.set(pages * Double(sysconf(Int32(_SC_PAGESIZE))))
        }
        if let count = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count {
            openFileDescriptors.set(Double(count))
        }
        if let fields = Self.statFields(), fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) {
            cpuSeconds.set((user + system) / Double(sysconf(Int32(_SC_CLK_TCK))))
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
