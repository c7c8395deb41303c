// swift-tools-version: 6.1
// Capstan's benchmarks: ordo-one/benchmark suites (`swift package benchmark`)
// and the drivers that the side-by-side scripts run against peer tools.
// Built separately (its own .build) so that building and testing Capstan does
// not build the benchmark harness; it uses the main package's products by path.
import PackageDescription

let package = Package(
    name: "CapstanBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Capstan", path: ".."),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // Loads a manifest tree once and prints time, objects/s and peak memory
        // as JSON; driven by manifest-load-vs-pyyaml.sh.
        .executableTarget(
            name: "manifest-load",
            dependencies: [.product(name: "CapstanCore", package: "Capstan")],
            path: "Sources/manifest-load"),
        // Drives the same etcd v3 API workload against a real etcd and
        // `capstan store serve` (see store-vs-etcd.sh).
        .executableTarget(
            name: "store-vs-etcd",
            dependencies: [
                .product(name: "CapstanStore", package: "Capstan"),
                .product(name: "CapstanTestSupport", package: "Capstan"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]),
        .executableTarget(
            name: "ManifestLoading",
            dependencies: [
                .product(name: "CapstanCore", package: "Capstan"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/ManifestLoading",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
        // Scheduling throughput (pods/s) through the real plugins, in-memory nodes, no store.
        .executableTarget(
            name: "SchedulerBenchmarks",
            dependencies: [
                .product(name: "CapstanCore", package: "Capstan"),
                .product(name: "CapstanScheduler", package: "Capstan"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/SchedulerBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    ]
)
