import Foundation
import Testing

/// Drives the built `capstan cri` with a Python CRI client (grpcio, stubs generated from
/// scripts/cri/api.proto) against real runc, CNI plugins and overlayfs. Each scenario starts
/// its own shim with its own state root, socket, bridge and subnet, and removes everything
/// it made even when it fails (see Client/crihelper.py).
@Suite(.enabled(if: getuid() == 0, "needs root: runc, mounts, network namespaces"))
struct CRIEndToEndTests {
    static let scenarios = [
        "lifecycle",
        "exit_code_and_short_lived",
        "containers_in_one_pod_share_localhost",
        "pods_talk_over_pod_ips",
        "port_mapping",
        "shim_restart_adopts_running_containers",
        "bad_requests_get_precise_codes",
        "image_service",
        "registry_pull",
        "import_and_resources",
        "layered_image_whiteouts",
        "kill_during_pod_start",
        "seccomp_runtime_default",
        "hostile_registry",
        "state_files_are_private",
    ]

    @Test(arguments: scenarios)
    func scenario(_ name: String) throws {
        let result = try runPython(["scenarios.py", name, "--capstan", try capstanBinary()])
        #expect(result.status == 0, "scenario \(name) failed:\n\(result.output)")
    }
}

/// `Tests/CRIEndToEndTests/Client`, found from this file's path.
func clientDirectory() -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "Client")
}

/// The `capstan` binary SwiftPM built next to this test bundle.
func capstanBinary() throws -> String {
    let testExecutable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    var folder = URL(fileURLWithPath: testExecutable).deletingLastPathComponent()
    // Inside an .xctest bundle on some platforms the binary sits one level deeper.
    for _ in 0..<4 {
        let candidate = folder.appending(path: "capstan")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
        folder = folder.deletingLastPathComponent()
    }
    throw CapstanBinaryMissing(searchedFrom: testExecutable)
}

struct CapstanBinaryMissing: Error, CustomStringConvertible {
    var searchedFrom: String
    var description: String { "no capstan binary near \(searchedFrom); run swift build first" }
}

/// Runs python3 in the client folder; returns its exit status and combined output.
func runPython(_ arguments: [String], timeout: TimeInterval = 180) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-u"] + arguments
    process.currentDirectoryURL = clientDirectory()
    let outputFile = FileManager.default.temporaryDirectory.appending(path: "capstan-cri-e2e-\(UUID().uuidString).log")
    _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: outputFile) }
    let handle = try FileHandle(forWritingTo: outputFile)
    process.standardOutput = handle
    process.standardError = handle
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    if process.isRunning {
        // The scenario's own cleanup runs on SIGTERM-free paths only; SIGINT raises
        // KeyboardInterrupt in Python, so its `finally` cleanup still runs.
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
    }
    try handle.close()
    let output = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
    return (process.terminationStatus, output)
}
