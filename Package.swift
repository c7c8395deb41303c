// swift-tools-version: 6.1
// Capstan: a GitOps-driven container orchestrator in one Swift binary.
// Module map and dependency direction: see docs/ and ../shared/DESIGN.md.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Capstan",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "capstan", targets: ["capstan"]),
        .library(name: "CapstanCore", targets: ["CapstanCore"]),
        .library(name: "CapstanStore", targets: ["CapstanStore"]),
        .library(name: "EtcdAPI", targets: ["EtcdAPI"]),
        .library(name: "CapstanTestSupport", targets: ["CapstanTestSupport"]),
        .library(name: "CapstanAPI", targets: ["CapstanAPI"]),
        .library(name: "CapstanClient", targets: ["CapstanClient"]),
        .library(name: "CapstanScheduler", targets: ["CapstanScheduler"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-async-algorithms.git", from: "1.1.4"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        // kubectl exec speaks WebSocket (v5.channel.k8s.io) first.
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        // Metrics through the server ecosystem's API, exposed in Prometheus' text format, so
        // Hummingbird's and other libraries' metrics join Capstan's on `/metrics`.
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
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

        // Files and folders made private (0600/0700) from their creation, replaced atomically:
        // one implementation for the store, the API server's keys and tokens, and GitOps.
        // The bounded pool every module runs blocking work on (libgit2, probes, layer unpacking),
        // and helper programs (runc, CNI plugins, nft) started with posix_spawn.
        .target(
            name: "CapstanSystem",
            dependencies: ["CCRIShims", .product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: swiftSettings),

        // Object model, YAML, JSON, quantities, selectors, validation. No I/O.
        .target(
            name: "CapstanCore",
            dependencies: [
                "CLibYAML",
                .product(name: "OrderedCollections", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings),

        // Generated swift-protobuf + grpc-swift-2 code for the etcd v3 API
        // (scripts/generate-etcd-api.sh, committed; never generated in CI).
        .target(
            name: "EtcdAPI",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]),

        // etcd-like MVCC key-value store: SQLite and etcd backends, etcd v3 API server.
        .target(
            name: "CapstanStore",
            dependencies: [
                "CSQLite3",
                "CapstanSystem",
                "EtcdAPI",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
            ],
            swiftSettings: swiftSettings),

        // Git as the source of desired state: fetch, read trees, revert, render.
        .target(
            name: "CapstanGitOps",
            dependencies: [
                "CapstanCore",
                "CapstanPolicy",
                "CapstanAPI",
                "CapstanClient",
                "CapstanSystem",
                "CLibGit2",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings),

        // The API contract shared by the server and its clients (the role k8s.io/apimachinery
        // plays): errors as Status, list/watch options, watch events, patches, write options, and
        // the ClusterClient protocol. No HTTP server, no store, no NIO.
        .target(
            name: "CapstanAPI",
            dependencies: ["CapstanCore"],
            swiftSettings: swiftSettings),

        // Kubernetes' protobuf encoding (application/vnd.kubernetes.protobuf) transcoded to and from
        // CapstanCore's JSON, over a message table generated from the Kubernetes .proto files
        // (scripts/generate-k8s-messages.sh, committed; never generated in CI).
        .target(
            name: "CapstanProtobuf",
            dependencies: ["CapstanCore", .product(name: "OrderedCollections", package: "swift-collections")],
            swiftSettings: swiftSettings),

        // The Kubernetes-shaped REST API over the store: registry, discovery, tables, watch,
        // TLS (generated CA + serving certificate), bearer tokens, roles, secrets encrypted at rest.
        .target(
            name: "CapstanAPIServer",
            dependencies: [
                "CapstanCore",
                "CapstanAPI",
                "CapstanProtobuf",
                // The event recorder every component shares, here over the InProcessClient.
                "CapstanClient",
                "CapstanSystem",
                "CapstanStore",
                // Capstan's policies, checked as validating admission on creates and updates.
                "CapstanPolicy",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings),

        // HTTPClusterClient (HTTPS to a remote server), informers,
        // the work queue and the Reconciler contract.
        .target(
            name: "CapstanClient",
            dependencies: [
                "CapstanCore",
                "CapstanAPI",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings),

        // Filter and score plugins over a node snapshot (pure), and the Scheduler service that binds pods.
        .target(
            name: "CapstanScheduler",
            dependencies: [
                "CapstanCore",
                "CapstanAPI",
                "CapstanClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings),

        // ReplicaSet and Deployment controllers and the garbage collector, as reconcilers over CapstanClient.
        .target(
            name: "CapstanControllers",
            dependencies: [
                "CapstanCore",
                "CapstanAPI",
                "CapstanClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings),

        // The node agent: registers its Node, heartbeats, and runs the pods bound to it through
        // any CRI v1 runtime over its unix socket (Capstan's shim or containerd).
        .target(
            name: "CapstanAgent",
            dependencies: [
                "CapstanCore",
                "CapstanAPI",
                "CapstanClient",
                "CapstanSystem",
                "CRIAPI",
                // openat2(2) for subPath resolution.
                "CCRIShims",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings),

        // A node's Service proxy: Services and EndpointSlices as one nftables table.
        .target(
            name: "CapstanProxy",
            dependencies: [
                "CapstanCore",
                "CapstanDNS",
                "CapstanAPI",
                "CapstanClient",
                "CapstanSystem",
                .product(name: "OrderedCollections", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings),

        // A node's cluster DNS: names of Services and pods answered from a snapshot the agent
        // fills from its informers, everything else forwarded upstream with a cache. UDP and TCP.
        .target(
            name: "CapstanDNS",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
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

        // Linux calls Swift can't reach directly (variadic prctl, GNU extensions, zlib's macros).
        .target(name: "CCRIShims", linkerSettings: [.linkedLibrary("z")]),

        // CRI v1 runtime and image services over gRPC on a unix socket: runc, CNI, images, logs.
        .target(
            name: "CapstanCRI",
            dependencies: [
                "CRIAPI",
                "CapstanCore",
                "CapstanSystem",
                "CCRIShims",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // Registry pulls: HTTP/1.1 with backpressure, TLS (BoringSSL).
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings),

        // Kyverno-style validate policies (a documented subset) checked against manifests. No I/O.
        .target(
            name: "CapstanPolicy",
            dependencies: ["CapstanCore"],
            swiftSettings: swiftSettings),

        // The composition root: from a configuration, the services of one server (store,
        // compactor, API server, scheduler, controllers, an embedded node), built the same way
        // by the CLI and the tests.
        .target(
            name: "CapstanControlPlane",
            dependencies: [
                "CapstanCore",
                "CapstanAPI",
                "CapstanStore",
                "CapstanAPIServer",
                "CapstanClient",
                "CapstanScheduler",
                "CapstanControllers",
                "CapstanAgent",
                "CapstanProxy",
                "CapstanCRI",
                "CapstanGitOps",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings),

        // The CLI: argument parsing and printing.
        .executableTarget(
            name: "capstan",
            dependencies: [
                "CapstanControlPlane",
                "CapstanCore",
                "CapstanStore",
                "CapstanAPIServer",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                "CapstanPolicy",
                "CapstanCRI",
                "CapstanGitOps",
                "CapstanClient",
                "CapstanScheduler",
                "CapstanControllers",
                "CapstanAgent",
                "CapstanProxy",
                "CapstanSystem",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings,
            plugins: ["BuildInfoPlugin"]),
        .plugin(name: "BuildInfoPlugin", capability: .buildTool()),

        .testTarget(
            name: "CapstanCoreTests",
            dependencies: ["CapstanCore"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings),
        // Helpers shared by tests and benchmarks: temp dirs, child processes, a real etcd.
        .target(
            name: "CapstanTestSupport",
            swiftSettings: swiftSettings),

        // What the tests of the control plane build on: an in-process registry over a real
        // SQLite store, and fakes of Capstan's boundaries (runtime, cluster, pod streaming, clock).
        // CapstanTestSupport stays free of Capstan's modules; this one sees them.
        .target(
            name: "CapstanTesting",
            dependencies: [
                "CapstanAPIServer", "CapstanStore", "CapstanTestSupport", "CapstanAgent", "CapstanCore", "CRIAPI",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),

        .testTarget(
            name: "CapstanDNSTests",
            dependencies: [
                "CapstanDNS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CapstanProxyTests",
            dependencies: [
                "CapstanProxy", "CapstanDNS", "CapstanCore", "CapstanSystem", "CapstanTestSupport", "CapstanTesting", "CapstanAPIServer",
                "CapstanAPI", .product(name: "OrderedCollections", package: "swift-collections"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CapstanSystemTests",
            dependencies: ["CapstanSystem"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CapstanStoreTests",
            dependencies: [
                "CapstanStore",
                "CapstanTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CapstanStoreEndToEndTests",
            dependencies: [
                "capstan",
                "CapstanStore",
                "CapstanTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CapstanProtobufTests",
            dependencies: ["CapstanProtobuf", "CapstanCore", .product(name: "OrderedCollections", package: "swift-collections")],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CapstanAPIServerTests",
            dependencies: [
                "CapstanAPIServer", "CapstanClient", "CapstanCore", "CapstanPolicy", "CapstanStore", "CapstanTestSupport", "CapstanTesting",
                .product(name: "Logging", package: "swift-log"),
                "capstan",  // `capstan logs` against the in-process server (PodStreamingKubectlTests)
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            exclude: ["Fixtures"],  // gnostic's OpenAPIv2.proto, read by protoc in OpenAPIV2ProtobufTests
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CapstanClientTests",
            dependencies: [
                "CapstanTesting", "CapstanClient", "CapstanAPIServer", "CapstanCore", "CapstanStore", "CapstanTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CapstanSchedulerTests",
            dependencies: [
                "CapstanTesting", "CapstanScheduler", "CapstanClient", "CapstanAPIServer", "CapstanCore", "CapstanStore", "CapstanTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CapstanControllersTests",
            dependencies: [
                "CapstanTesting", "CapstanControllers", "CapstanScheduler", "CapstanClient", "CapstanAPIServer", "CapstanCore", "CapstanStore",
                "CapstanTestSupport", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        // `capstan up` on a git repository with real runc, CNI, git and kubectl (root).
        .testTarget(
            name: "NodeEndToEndTests",
            dependencies: ["capstan", "CapstanTestSupport"],
            exclude: ["Client"],  // dnspython's checks of cluster DNS (ServicesEndToEndTests)
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CapstanAgentTests",
            dependencies: [
                "CapstanTesting", "CapstanAgent", "CapstanClient", "CapstanAPIServer", "CapstanCore", "CapstanStore", "CapstanSystem",
                "CapstanTestSupport",
                "CRIAPI",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        // HTTPClusterClient against a running `capstan server` over TLS.
        .testTarget(
            name: "HTTPClientEndToEndTests",
            dependencies: [
                "capstan", "CapstanClient", "CapstanAPIServer", "CapstanCore", "CapstanStore", "CapstanTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings),
        // The real kubectl and Python kubernetes client against a running `capstan server`.
        .testTarget(
            name: "APIServerEndToEndTests",
            dependencies: [
                "capstan", "CapstanCore", "CapstanProtobuf", "CapstanTestSupport", .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["Client"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CapstanGitOpsTests",
            dependencies: [
                "CapstanGitOps", "CapstanCore", "CapstanClient", "CapstanAPIServer", "CapstanTesting", "CapstanTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),

        // A real git repository, the real `capstan server` and the real kubectl: commits become objects.
        .testTarget(
            name: "GitOpsEndToEndTests",
            dependencies: ["capstan", "CapstanCore", "CapstanTestSupport", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings),

        .testTarget(
            name: "CapstanPolicyTests",
            dependencies: ["CapstanPolicy", "CapstanCore"],
            swiftSettings: swiftSettings),
        // Runs the built `capstan` binary as a user would.
        .testTarget(
            name: "CapstanCRITests",
            dependencies: [
                "CapstanCRI", "CRIAPI", "CapstanCore",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
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
        // The control plane assembled in process on a fake runtime.
        .testTarget(
            name: "CapstanControlPlaneTests",
            dependencies: [
                "CapstanControlPlane", "CapstanAPI", "CapstanAgent", "CapstanCore", "CapstanGitOps", "CapstanTestSupport", "CapstanTesting",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CapstanCLITests",
            dependencies: ["capstan", "CapstanCore"],
            swiftSettings: swiftSettings),
    ]
)
