// swift-tools-version: 6.1
// Peer-comparison benchmarks: Capstan against the systems it replaces.
// Built separately (its own .build) so benchmark-only code never enters the
// main package; it uses the main package's products by path.
import PackageDescription

let package = Package(
    name: "CapstanBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Capstan", path: ".."),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
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
    ]
)
