import Foundation
import Logging
import Testing

@testable import CapstanCRI

/// The shim's state is private: folders 0700 and records 0600 from their creation.
struct StateFileModeTests {
    func mode(_ url: URL) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int) ?? -1
    }

    @Test func stateFoldersAndRecordsArePrivate() async throws {
        try await withTemporaryFolder { base in
            let root = base.appending(path: "var/lib/capstan/cri")
            var configuration = CRIRuntimeConfiguration(root: root, monitorExecutable: "/bin/false")
            configuration.cniConfigurationDirectory = base.appending(path: "net.d").path
            let runtime = try CRIRuntime(configuration: configuration, logger: Logger(label: "test"))
            for folder in ["", "sandboxes", "containers", "runc", "images", "images/blobs", "images/blobs/sha256", "images/layers", "images/tmp"] {
                #expect(try mode(root.appending(path: folder)) == 0o700, "\(folder.isEmpty ? "the state root" : folder)")
            }
            try makeDirectories(root.appending(path: "sandboxes/s1"), mode: 0o700)
            try makeDirectories(root.appending(path: "containers/c1"), mode: 0o700)
            try await runtime.saveForTest(
                SandboxRecord(
                    id: "s1", configData: Data("SECRET".utf8), runtimeHandler: "", state: .ready, createdAt: 0, netnsPath: nil,
                    directory: "", ips: [], cniResult: nil, cgroupParent: ""))
            try await runtime.saveForTest(
                ContainerRecord(
                    id: "c1", sandboxID: "s1", configData: Data("SECRET".utf8), imageID: "", imageName: "", createdAt: 0,
                    startedAt: nil, logPath: "", bundle: "", cgroupPath: "", pid: 0, monitorPID: 0, stopSignal: "SIGTERM"))
            #expect(try mode(root.appending(path: "sandboxes/s1/sandbox.json")) == 0o600)
            #expect(try mode(root.appending(path: "containers/c1/container.json")) == 0o600)
            // The CNI configuration other tools read stays world-readable.
            #expect(try mode(base.appending(path: "net.d/10-capstan.conflist")) == 0o644)
        }
    }

    @Test func atomicWritesArePrivateByDefault() async throws {
        try await withTemporaryFolder { base in
            let file = base.appending(path: "record.json")
            try Data("{}".utf8).writeAtomically(to: file)
            #expect(try mode(file) == 0o600)
        }
    }
}

extension CRIRuntime {
    func saveForTest(_ record: SandboxRecord) throws { try save(record) }
    func saveForTest(_ record: ContainerRecord) throws { try save(record) }
}
