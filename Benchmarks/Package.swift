// swift-tools-version: 6.1
// Capstan's benchmarks: ordo-one/benchmark suites (`swift package benchmark`)
// and the drivers that the side-by-side scripts run against peer tools.
// Kept out of the main package so that building and testing Capstan does not
// build the benchmark harness.
import PackageDescription

let package = Package(
    name: "CapstanBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // Loads a manifest tree once and prints time, objects/s and peak memory
        // as JSON; driven by manifest-load-vs-pyyaml.sh.
        .executableTarget(
            name: "manifest-load",
            dependencies: [.product(name: "CapstanCore", package: "main")],
            path: "Sources/manifest-load"),
        .executableTarget(
            name: "ManifestLoading",
            dependencies: [
                .product(name: "CapstanCore", package: "main"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/ManifestLoading",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    ]
)
