import Benchmark
import CapstanCore
import Foundation

/// Loading a generated 10,000-object manifest tree (~20 MB), with and without
/// validation. The tree is generated once by scripts/generate-manifests.py.
let benchmarks: @Sendable () -> Void = {
    let root = ProcessInfo.processInfo.environment["CAPSTAN_BENCH_MANIFESTS"] ?? "/tmp/capstan-bench-manifests"
    if !FileManager.default.fileExists(atPath: root) {
        let generator = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appending(path: "scripts/generate-manifests.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", generator.path, root, "10000"]
        try? process.run()
        process.waitUntilExit()
    }
    var paths: [String] = []
    if let enumerator = FileManager.default.enumerator(atPath: root) {
        while let relative = enumerator.nextObject() as? String {
            if ManifestLoader.isManifestFile(relative) { paths.append(root + "/" + relative) }
        }
    }
    let files = paths.sorted().map { (path: $0, contents: [UInt8](FileManager.default.contents(atPath: $0) ?? Data())) }
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .peakMemoryResident, .mallocCountTotal],
        scalingFactor: .one,
        maxDuration: .seconds(30),
        maxIterations: 5)

    Benchmark("Load 10k-object manifest tree (YAML only)", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(ManifestLoader(validates: false).load(files: files))
        }
    }

    Benchmark("Load 10k-object manifest tree (YAML + validation)", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(ManifestLoader(validates: true).load(files: files))
        }
    }
}
