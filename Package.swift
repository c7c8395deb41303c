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
        .library(name: "CapstanCRI", targets: ["CapstanCRI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
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

        // Generated CRI v1 messages and gRPC stubs (scripts/generate-cri.sh; committed, never
        // generated in CI). Generated code keeps its own import style, so no upcoming features.
        .target(
            name: "CRIAPI",
            dependencies: [
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
            ]),

        // Linux calls Swift can't reach directly (variadic prctl, GNU extensions).
        .target(name: "CCRIShims"),

        // CRI v1 runtime and image services over gRPC on a unix socket: runc, CNI, images, logs.
        .target(
            name: "CapstanCRI",
            dependencies: [
                "CRIAPI",
                "CCRIShims",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings),

        // The CLI: wiring only.
        .executableTarget(
            name: "capstan",
            dependencies: [
                "CapstanCore",
                "CapstanCRI",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),

        .testTarget(
            name: "CapstanCoreTests",
            dependencies: ["CapstanCore"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CapstanCRITests",
            dependencies: [
                "CapstanCRI", "CRIAPI",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        // Runs the built `capstan cri` under a Python CRI client (grpcio) with real runc and CNI.
        .testTarget(
            name: "CRIEndToEndTests",
            dependencies: ["capstan"],
            exclude: ["Client"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CapstanCLITests",
            dependencies: ["capstan", "CapstanCore"],
            swiftSettings: swiftSettings),
    ]
)
