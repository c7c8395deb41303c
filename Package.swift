// swift-tools-version: 6.1
// Capstan: a GitOps-driven container orchestrator in one Swift binary.
// Module map and dependency direction: see docs/ and ../shared/DESIGN.md.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Capstan",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "capstan", targets: ["capstan"]),
        .library(name: "CapstanCore", targets: ["CapstanCore"]),
        .library(name: "CapstanPolicy", targets: ["CapstanPolicy"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
    ],
    targets: [
        // System libraries, found through pkg-config (Debian's -dev packages).
        .systemLibrary(
            name: "CLibYAML", pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(
            name: "CLibGit2", pkgConfig: "libgit2",
            providers: [.apt(["libgit2-dev"])]),
        .systemLibrary(
            name: "CSQLite3", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),

        // Object model, YAML, JSON, quantities, selectors, validation. No I/O.
        .target(
            name: "CapstanCore",
            dependencies: [
                "CLibYAML",
                .product(name: "OrderedCollections", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings),

        // Kyverno-style validate policies (a documented subset) checked against manifests. No I/O.
        .target(
            name: "CapstanPolicy",
            dependencies: ["CapstanCore"],
            swiftSettings: swiftSettings),

        // The CLI: wiring only.
        .executableTarget(
            name: "capstan",
            dependencies: [
                "CapstanCore",
                "CapstanPolicy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings,
            plugins: ["BuildInfoPlugin"]),
        .plugin(name: "BuildInfoPlugin", capability: .buildTool()),

        .testTarget(
            name: "CapstanCoreTests",
            dependencies: ["CapstanCore"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CapstanPolicyTests",
            dependencies: ["CapstanPolicy", "CapstanCore"],
            swiftSettings: swiftSettings),
        // Runs the built `capstan` binary as a user would.
        .testTarget(
            name: "CapstanCLITests",
            dependencies: ["capstan", "CapstanCore"],
            swiftSettings: swiftSettings),
    ]
)
